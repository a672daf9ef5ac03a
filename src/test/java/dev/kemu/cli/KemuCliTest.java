package dev.kemu.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KemuCliTest {
    private record Run(int exit, String out) {}

    private static Run run(String... args) {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            CommandLine cli = new CommandLine(new KemuCli());
            StringWriter help = new StringWriter();
            cli.setOut(new PrintWriter(help));
            int exit = cli.execute(args);
            return new Run(exit, captured.toString(StandardCharsets.UTF_8) + help);
        } finally {
            System.setOut(original);
        }
    }

    @Test
    void boot_printsOneLinePerStageThenConsoleThenSummary() {
        Run run = run("boot");
        assertEquals(0, run.exit(), run.out());
        String[] expectedOrder = {"firmware handoff", "32-bit entry", "paging on", "long mode active",
                "higher half reached", "kmain ", "--- debug console ---", "kmain: hello from the higher half",
                "--- summary ---", "stopped: EXIT_PORT"};
        int at = 0;
        for (String expected : expectedOrder) {
            int found = run.out().indexOf(expected, at);
            assertTrue(found >= at, "'" + expected + "' after position " + at + " in:\n" + run.out());
            at = found;
        }
        assertTrue(run.out().matches("(?s).*kmain\\s+RIP=0xffffffff8\\p{XDigit}{7} CR0=0x80010011 .* insns=\\d+.*"),
                run.out());
    }

    @Test
    void everyCommand_hasHelp() {
        for (String command : new String[]{"boot", "version"}) {
            Run run = run(command, "--help");
            assertEquals(0, run.exit());
            assertTrue(run.out().contains("Usage: kemu " + command), run.out());
        }
    }
}
