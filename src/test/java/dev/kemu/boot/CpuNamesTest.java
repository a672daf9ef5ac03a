package dev.kemu.boot;

import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** With several CPUs the stage lines name the CPU they were observed on (cpu0); with one they name none. */
class CpuNamesTest {
    private static BootReport boot(int cpus) {
        try (KernelBoot boot = new KernelBoot(TestKernels.defaultKernel(), BootOptions.defaults().withCpus(cpus))) {
            return boot.run();
        }
    }

    @Test
    void withTwoCpus_everyStageLineStartsWithCpu0() {
        BootReport report = boot(2);
        assertFalse(report.stages().isEmpty(), "stages observed");
        report.stages().forEach(stage -> assertTrue(stage.line().startsWith("cpu0 " + stage.stage().title()), stage.line()));
    }

    @Test
    void withOneCpu_stageLinesStartWithTheStageAsBefore() {
        BootReport report = boot(1);
        assertFalse(report.stages().isEmpty(), "stages observed");
        report.stages().forEach(stage -> assertTrue(stage.line().startsWith(stage.stage().title()), stage.line()));
    }
}
