package dev.kemu.cli;

import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad option values are usage errors that name the option, what is wrong and what to use instead. */
class BootOptionsCliTest {
    @TempDir
    Path dir;

    private static CliRun usageError(String... args) {
        CliRun run = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> CliRun.of(args));
        assertEquals(ExitStatus.USAGE, run.exit(), run.all());
        return run;
    }

    @Test
    void ramLargerThanTheMachineCanHold_isRefusedAtOnce() {
        CliRun run = usageError("boot", "--ram", "1000000");
        assertTrue(run.err().contains("--ram 1000000: too large"), run.all());
        assertTrue(run.err().contains("at most 3072 MiB"), run.all());
    }

    @Test
    void ramThatOverflowsWhenConvertedToBytes_isRefusedWithTheValueGiven() {
        CliRun run = usageError("boot", "--ram", "9223372036854775807");
        assertTrue(run.err().contains("--ram 9223372036854775807: too large"), run.all());
        assertFalse(run.err().contains("-1048576"), run.all());
    }

    @Test
    void ramTooSmallForTheKernel_isRefused() {
        CliRun run = usageError("boot", "--ram", "1");
        assertTrue(run.err().contains("--ram 1: too small"), run.all());
        usageError("boot", "--ram", "-64");
    }

    @Test
    void unknownClock_isRefusedWithTheTwoChoices() {
        CliRun run = usageError("boot", "--clock", "sideways");
        assertTrue(run.err().contains("--clock sideways: use instructions (deterministic, the default) or host"), run.all());
    }

    @Test
    void hostClockWithSeveralCpus_isRefusedNamingBoth() {
        CliRun run = usageError("boot", "--clock", "host", "--cpus", "2");
        assertTrue(run.err().contains("--clock host with --cpus 2: "), run.all());
        assertTrue(run.err().contains("boot with --cpus 1"), run.all());
    }

    @Test
    void negativeTraceBlocks_isRefused() {
        CliRun run = usageError("boot", "--trace-blocks", "-1");
        assertTrue(run.err().contains("--trace-blocks -1: must be 0 (off) or a positive number of blocks"), run.all());
    }

    @Test
    void negativeBudget_isRefused() {
        CliRun run = usageError("boot", "--budget", "-5");
        assertTrue(run.err().contains("--budget -5: must be 0 (no limit, uncounted) or a positive number"), run.all());
    }

    @Test
    void unknownFaultFormat_isRefused() {
        CliRun run = usageError("boot", "--fault-format", "xml");
        assertTrue(run.err().contains("--fault-format"), run.all());
        assertTrue(run.err().contains("text, json"), run.all());
    }

    @Test
    void budgetZero_saysInstructionsWereNotCounted() {
        CliRun run = CliRun.of("boot", "--budget", "0");
        assertFalse(run.out().contains("-1 instructions"), run.all());
        assertTrue(run.out().contains("instructions not counted (--budget 0)"), run.all());
        assertFalse(run.out().contains("insns=0"), run.all());
        assertTrue(run.out().matches("(?s).*kmain\\s+RIP=.* insns=uncounted\n.*"), run.all());
    }

    @Test
    void timeout_isAnOptionThatStopsARunawayGuest() {
        String kernel = TestKernels.withKmain(dir, """
                1:  jmp 1b
                """).kernel().toString();
        CliRun run = CliRun.of("boot", "--kernel", kernel, "--budget", "0", "--timeout", "200ms");
        assertEquals(ExitStatus.BOOT_FAILED, run.exit(), run.all());
        assertTrue(run.out().contains("stopped: TIMEOUT"), run.all());
        assertTrue(run.err().contains("timed out in stage 'kmain'"), run.all());
    }

    @Test
    void timeoutValues_parseWithTheirUnit() {
        assertEquals(Duration.ofSeconds(60), DurationConverter.parse("60s"));
        assertEquals(Duration.ofMillis(250), DurationConverter.parse("250ms"));
        assertEquals(Duration.ofMinutes(2), DurationConverter.parse("2m"));
        assertEquals(Duration.ZERO, DurationConverter.parse("0"));
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                () -> DurationConverter.parse("999999999m"));
        assertEquals("'999999999m' is longer than the largest limit, 24 h (1440m); use 0 for no limit",
                tooLong.getMessage());
        assertEquals(Duration.ofHours(24), DurationConverter.parse("1440m"));
        CliRun run = usageError("boot", "--timeout", "soon");
        assertTrue(run.err().contains("'soon'"), run.all());
        assertTrue(run.err().contains("like 60s, 500ms or 2m"), run.all());
    }

    @Test
    void doubleVerbose_setsTheLogLevelToTrace() {
        String key = "org.slf4j.simpleLogger.defaultLogLevel";
        String before = System.getProperty(key);
        try {
            KemuCli.commandLine().parseArgs("-vv", "version");
            assertEquals("trace", System.getProperty(key));
            KemuCli.commandLine().parseArgs("version", "-v");
            assertEquals("debug", System.getProperty(key));
        } finally {
            if (before == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, before);
            }
        }
    }

    @Test
    void helpTexts_areWholeSentences() {
        var cli = KemuCli.commandLine();
        for (var sub : cli.getSubcommands().values()) {
            for (String line : sub.getCommandSpec().usageMessage().description()) {
                line = line.replaceAll("(%n)+$", "");
                assertTrue(line.endsWith("."), sub.getCommandName() + ": description line cut mid-sentence: " + line);
            }
            for (var option : sub.getCommandSpec().options()) {
                for (String line : option.description()) {
                    assertTrue(line.endsWith(".") || line.endsWith(")"),
                            sub.getCommandName() + " " + option.longestName() + ": " + line);
                }
            }
        }
    }
}
