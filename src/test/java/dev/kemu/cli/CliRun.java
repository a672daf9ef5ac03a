package dev.kemu.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

/** One in-process run of {@code ./kemu ARGS}: its exit status, standard output and standard error. */
record CliRun(int exit, String out, String err) {

    static CliRun of(String... args) {
        PrintStream originalOut = System.out, originalErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            var cli = KemuCli.commandLine();
            StringWriter cliOut = new StringWriter(), cliErr = new StringWriter();
            cli.setOut(new PrintWriter(cliOut, true));
            cli.setErr(new PrintWriter(cliErr, true));
            int exit = cli.execute(args);
            return new CliRun(exit, out.toString(StandardCharsets.UTF_8) + cliOut,
                    err.toString(StandardCharsets.UTF_8) + cliErr);
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
    }

    /** Everything the user saw, for assertion messages. */
    String all() {
        return "exit " + exit + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
    }

    /** The text after {@code label: } on the first stdout line that starts with it (explain's and whatis's shape). */
    String labelled(String label) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^" + java.util.regex.Pattern.quote(label)
                + ": (.*)$").matcher(out);
        org.junit.jupiter.api.Assertions.assertTrue(m.find(), "no '" + label + ":' line in\n" + out);
        return m.group(1);
    }
}
