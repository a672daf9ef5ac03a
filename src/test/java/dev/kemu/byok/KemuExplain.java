package dev.kemu.byok;

import dev.kemu.cli.KemuCli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** {@code ./kemu explain --kernel K ADDRESS}, run in-process: its standard output (explain prints there). */
final class KemuExplain {
    private KemuExplain() {}

    static String explain(Path kernel, String address) {
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        int status;
        try {
            status = KemuCli.commandLine().execute("explain", "--kernel", kernel.toString(), "--serial", "none", address);
        } finally {
            System.setOut(original);
        }
        String text = out.toString(StandardCharsets.UTF_8);
        if (status != 0) {
            throw new AssertionError("kemu explain " + address + " exited with " + status + "\n" + text);
        }
        return text;
    }
}
