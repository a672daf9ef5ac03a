package dev.kemu.machine.devices;

import dev.kemu.machine.Machine;
import dev.kemu.machine.PortDevice;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.IntConsumer;

/** Port 0xE9 debug console (QEMU debugcon, Bochs E9 hack): each byte written is output. */
public final class DebugConsole implements PortDevice {
    public static final int PORT = 0xE9;

    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private IntConsumer echo = b -> { };

    /** Also passes every byte to {@code sink} as it arrives (for live output). */
    public void echoTo(IntConsumer sink) {
        this.echo = sink;
    }

    @Override
    public void write(Machine machine, int port, int size, int value) {
        int b = value & 0xff;
        output.write(b);
        echo.accept(b);
    }

    @Override
    public int read(Machine machine, int port, int size) {
        return PORT; // Bochs/QEMU convention: reading the port tells the guest the console exists
    }

    public String text() {
        return output.toString(StandardCharsets.ISO_8859_1);
    }

    public void clear() {
        output.reset();
    }
}
