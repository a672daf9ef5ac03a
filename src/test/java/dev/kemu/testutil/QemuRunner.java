package dev.kemu.testutil;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Boots a Multiboot kernel under {@code qemu-system-x86_64} with the flags a kernel author passes
 * (serial and debug console to files, isa-debug-exit at 0xF4, no display, no reboot, 64 MiB), the
 * reference kemu's output is compared with. Tests call {@link #assumeInstalled()} first, so they
 * skip with a message where QEMU is missing ({@code .ci/run} installs it when run as root).
 */
public final class QemuRunner {
    public static final String EXECUTABLE = "qemu-system-x86_64";
    private static final long TIMEOUT_SECONDS = 60;

    private QemuRunner() {}

    public static boolean isInstalled() {
        return HostTools.onPath(EXECUTABLE);
    }

    public static void assumeInstalled() {
        assumeTrue(isInstalled(), EXECUTABLE + " is not installed, so the QEMU half of this test is skipped "
                + "(Debian: apt-get install qemu-system-x86; .ci/run installs it when run as root)");
    }

    /** The flags a user passes, in the order the README of a hobby kernel gives them. */
    public static List<String> command(Path kernel, Path serial, Path debugConsole, String commandLine) {
        List<String> command = new ArrayList<>(List.of(EXECUTABLE, "-kernel", kernel.toString(),
                "-serial", "file:" + serial, "-debugcon", "file:" + debugConsole,
                "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-display", "none", "-no-reboot", "-m", "64M"));
        if (commandLine != null) {
            command.addAll(List.of("-append", commandLine));
        }
        return command;
    }

    /** Boots {@code kernel} with no command line; files go to {@code workDir}. */
    public static GuestOutput boot(Path kernel, Path workDir) {
        return boot(kernel, workDir, null);
    }

    /** Boots {@code kernel} with {@code -append commandLine} (none when null) and waits for QEMU to exit. */
    public static GuestOutput boot(Path kernel, Path workDir, String commandLine) {
        return boot(kernel, workDir, commandLine, new String[0]);
    }

    /** As above, with more QEMU options (e.g. {@code -smp 2}) after the usual ones. */
    public static GuestOutput boot(Path kernel, Path workDir, String commandLine, String... options) {
        Path serial = workDir.resolve("qemu-serial.out"), debugConsole = workDir.resolve("qemu-debugcon.out");
        Path log = workDir.resolve("qemu.log");
        List<String> command = new ArrayList<>(command(kernel, serial, debugConsole, commandLine));
        command.addAll(List.of(options));
        try {
            Process qemu = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!qemu.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                qemu.destroyForcibly().waitFor();
                throw new AssertionError(String.join(" ", command) + " did not exit within " + TIMEOUT_SECONDS
                        + " s (the kernel neither wrote the exit port nor triple-faulted); its output: "
                        + read(log) + "\ndebug console: " + read(debugConsole));
            }
            return new GuestOutput(qemu.exitValue(), read(serial), read(debugConsole), read(log));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + EXECUTABLE, e);
        }
    }

    /** A file's bytes as ISO-8859-1 text; "" when the tool never created it (it saw no output). */
    static String read(Path file) throws IOException {
        return Files.exists(file) ? new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1) : "";
    }
}
