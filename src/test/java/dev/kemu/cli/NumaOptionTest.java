package dev.kemu.cli;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --numa N}: 1 to 8 nodes of at least 8 MiB; anything else is a usage error that says what to do. */
class NumaOptionTest {
    private static CliRun usageError(String... args) {
        CliRun run = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> CliRun.of(args));
        assertEquals(ExitStatus.USAGE, run.exit(), run.all());
        return run;
    }

    @Test
    void nineNodes_areRefused() {
        CliRun run = usageError("boot", "--numa", "9");
        assertTrue(run.err().contains("--numa 9: 9 NUMA nodes: kemu splits RAM into 1 to 8 nodes"), run.all());
    }

    @Test
    void zeroNodes_areRefused() {
        CliRun run = usageError("boot", "--numa", "0");
        assertTrue(run.err().contains("--numa 0: ") && run.err().contains("1 to 8"), run.all());
    }

    @Test
    void nodesSmallerThan8MiB_areRefused_namingTheRam() {
        CliRun run = usageError("boot", "--ram", "32", "--numa", "8");
        assertTrue(run.err().contains("8 NUMA nodes in 32 MiB of RAM: each node needs at least 8 MiB; give more RAM "
                + "or fewer nodes"), run.all());
    }
}
