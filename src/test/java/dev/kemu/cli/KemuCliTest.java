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
            CommandLine cli = KemuCli.commandLine();
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
        // kmain.S writes 0 to the exit port when it is done: QEMU's isa-debug-exit convention makes that 0 << 1 | 1.
        assertEquals(ExitStatus.guestExit(0), run.exit(), run.out());
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
    void explain_directMapAddress_printsFourLevelsEndingInA2MiBPage() {
        Run run = run("explain", "0xffff800000201000");
        assertEquals(0, run.exit(), run.out());
        assertTrue(run.out().contains("page walk of V0xffff800000201000"), run.out());
        assertTrue(run.out().contains("PML4 P0x"), run.out());
        assertTrue(run.out().contains("-> P0x201000 (2 MiB page)"), run.out());
    }

    @Test
    void bootWithMm_printsPhysicalMapSlabinfoAndAConsistentCheck() {
        Run run = run("boot", "--mm");
        assertEquals(ExitStatus.guestExit(0), run.exit(), run.out());
        String out = run.out();
        assertTrue(out.contains("--- physical memory ---"), out);
        assertTrue(out.matches("(?s).*P0x000100000-P0x000103000 kernel image\\s+3 frames.*"), out);
        assertTrue(out.contains("mm metadata"), out);
        assertTrue(out.matches("(?s).*# name\\s+active_objs\\s+num_objs.*kmalloc-2048 .*"), out);
        assertTrue(out.contains("--- metadata check ---\nconsistent"), out);
    }

    @Test
    void explain_notAnAddressNorASymbol_isAClearError() {
        // "kmain" is a symbol now (ExplainCommandTest); "0xnot-hex" is neither hex nor a symbol name.
        assertEquals(2, run("explain", "0xnot-hex").exit());
    }

    @Test
    void boot_withUnknownFaultPolicy_isAClearError() {
        assertEquals(2, run("boot", "--on-fault=ignore").exit());
    }

    @Test
    void everyCommand_hasHelp() {
        for (String command : new String[]{"boot", "explain", "version"}) {
            Run run = run(command, "--help");
            assertEquals(0, run.exit());
            assertTrue(run.out().contains("Usage: kemu " + command), run.out());
        }
    }
}
