package dev.kemu.byok;

import dev.kemu.cli.KemuCli;
import dev.kemu.testutil.GuestOutput;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code ./kemu boot --kernel K --serial FILE [--cmdline TEXT] [OPTIONS]}, run in-process through the
 * command line's own entry point, as a user boots their kernel: what the guest wrote on COM1 (the
 * serial file) and on the debug console (the CLI's "--- debug console ---" section), and the status.
 */
final class KemuCommand {
    private static final String CONSOLE_START = "--- debug console ---\n";
    private static final String CONSOLE_END = "--- summary ---\n";

    private KemuCommand() {}

    static GuestOutput boot(Path kernel, Path workDir, String commandLine, String... options) {
        Path serial = workDir.resolve("kemu-serial.out");
        List<String> args = new ArrayList<>(List.of("boot", "--kernel", kernel.toString(), "--serial", serial.toString()));
        if (commandLine != null) {
            args.addAll(List.of("--cmdline", commandLine));
        }
        args.addAll(List.of(options));
        StringWriter out = new StringWriter(), err = new StringWriter();
        var cli = KemuCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int status = cli.execute(args.toArray(String[]::new));
        String stdout = out.toString();
        String toolOutput = "./kemu " + String.join(" ", args) + "\n--- stdout ---\n" + stdout + "--- stderr ---\n" + err;
        return new GuestOutput(status, read(serial), debugConsole(stdout), toolOutput);
    }

    /**
     * The debug console section of {@code kemu boot}'s output. The CLI ends it with a newline when the guest
     * did not; the test kernels end every line, so the section is exactly what the guest wrote.
     */
    static String debugConsole(String stdout) {
        int start = stdout.indexOf(CONSOLE_START);
        int end = stdout.indexOf(CONSOLE_END, Math.max(start, 0));
        return start < 0 || end < 0 ? "" : stdout.substring(start + CONSOLE_START.length(), end);
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1) : "";
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read kemu's serial output " + file, e);
        }
    }
}
