package dev.kemu.cli;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --cpus N}: 1 to 255; anything else is a usage error that says what is allowed. */
class CpusOptionTest {
    private static CliRun usageError(String... args) {
        CliRun run = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> CliRun.of(args));
        assertEquals(ExitStatus.USAGE, run.exit(), run.all());
        return run;
    }

    @Test
    void zeroCpus_isRefused() {
        CliRun run = usageError("boot", "--cpus", "0");
        assertTrue(run.err().contains("--cpus 0: a machine has 1 to 255 CPUs"), run.all());
    }

    @Test
    void moreCpusThanXApicIds_isRefused() {
        CliRun run = usageError("boot", "--cpus", "256");
        assertTrue(run.err().contains("--cpus 256: a machine has 1 to 255 CPUs (each needs its own xAPIC ID"), run.all());
    }

    @Test
    void aCpuCountThatIsNotANumber_isRefused() {
        CliRun run = usageError("boot", "--cpus", "two");
        assertTrue(run.err().contains("--cpus two: not a number; give the number of CPUs, 1 to 255"), run.all());
    }
}
