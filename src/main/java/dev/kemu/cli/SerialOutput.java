package dev.kemu.cli;

import dev.kemu.boot.DeviceActivity;
import dev.kemu.machine.devices.Uart16550;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where {@code --serial} sends COM1's output: a section of the standard output after the debug
 * console ({@code stdout}, the default), a file written byte by byte as the guest sends
 * ({@code FILE}; {@code ./none} for a file of that name), or nowhere ({@code none}). COM2's
 * output, when there is any, always gets its own section. The boot report keeps both either way.
 */
final class SerialOutput implements AutoCloseable {
    private enum Mode { STDOUT, FILE, NONE }

    private final Mode mode;
    private final Path file;
    private final OutputStream stream;

    private SerialOutput(Mode mode, Path file, OutputStream stream) {
        this.mode = mode;
        this.file = file;
        this.stream = stream;
    }

    static SerialOutput of(BootArguments arguments) {
        return switch (arguments.serial) {
            case "stdout" -> new SerialOutput(Mode.STDOUT, null, null);
            case "none" -> new SerialOutput(Mode.NONE, null, null);
            default -> {
                Path file = Path.of(arguments.serial);
                try {
                    yield new SerialOutput(Mode.FILE, file, new BufferedOutputStream(Files.newOutputStream(file)));
                } catch (IOException | RuntimeException e) {
                    throw arguments.usage("--serial " + arguments.serial + ": cannot write COM1's output there (" + e
                            + "); give stdout, none or a writable file");
                }
            }
        };
    }

    /** With a file, every byte COM1 sends goes there as it is sent. */
    void attach(Uart16550 com1) {
        if (mode == Mode.FILE) {
            com1.echoTo(b -> {
                try {
                    stream.write(b);
                } catch (IOException e) {
                    throw new UncheckedIOException("--serial " + file + ": writing COM1's output failed", e);
                }
            });
        }
    }

    /** The serial sections of the human-readable output. */
    void show(DeviceActivity devices, PrintWriter out) {
        if (mode == Mode.STDOUT) {
            section("COM1", devices.com1(), out);
        }
        section("COM2", devices.com2(), out);
    }

    private static void section(String port, String text, PrintWriter out) {
        if (text.isEmpty()) {
            return;
        }
        out.println("--- serial " + port + " ---");
        out.print(text);
        if (!text.endsWith("\n")) {
            out.println();
        }
    }

    @Override
    public void close() {
        if (stream != null) {
            try {
                stream.close();
            } catch (IOException e) {
                throw new UncheckedIOException("--serial " + file + ": writing COM1's output failed", e);
            }
        }
    }
}
