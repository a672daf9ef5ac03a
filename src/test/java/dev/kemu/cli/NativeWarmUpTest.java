package dev.kemu.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeWarmUpTest {

    @ParameterizedTest
    @ValueSource(strings = {"boot", "boot --ram=128", "boot --kernel=target/x.elf --cmdline=small"})
    void startsForABootThatCannotAskForMoreLogging(String line) {
        assertTrue(NativeWarmUp.mayStart(line.split(" ")), line);
    }

    @ParameterizedTest
    @ValueSource(strings = {"boot -v", "boot -vv", "boot --verbose", "-v boot", "boot --cmdline=-v", "boot --help", "boot -h", "version",
            "explain kmain", "asm"})
    void staysOffWhenLoggersCouldNeedAnotherLevel_orForOtherCommands(String line) {
        // slf4j-simple fixes a logger's level when it is made: a warm-up logger made before -v is parsed would
        // keep the default level.
        assertFalse(NativeWarmUp.mayStart(line.split(" ")), line);
    }

    @Test
    void aBootRunningBesideTheWarmUp_printsWhatItPrintsAlone() {
        NativeWarmUp.start();
        CliRun run = CliRun.of("boot");
        assertEquals(ExitStatus.guestExit(0), run.exit(), run.all());
        assertTrue(run.out().contains("kmain: done, halting"), run.all());
        assertFalse(run.err().contains("SLF4J"), run.all());
    }
}
