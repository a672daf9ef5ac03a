package dev.kemu.boot;

import dev.kemu.debug.FaultReport;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With several CPUs the stage lines, the boot failure and the fault reports name the CPU (cpu0 for the bootstrap
 * CPU); with one CPU they name none.
 */
class CpuNamesTest {
    private static final String KMAIN_READS_UNMAPPED = """
                movabs rax, 0x0000400000000000
                mov rbx, [rax]
                ret
            """;

    @TempDir
    Path dir;

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

    @Test
    void withTwoCpus_aFaultInKmain_isReportedOnCpu0() {
        BootReport report;
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, KMAIN_READS_UNMAPPED),
                BootOptions.defaults().withCpus(2))) {
            report = boot.run();
        }
        String failure = report.failure().orElseThrow();
        assertTrue(failure.startsWith("triple fault on cpu0 in stage 'kmain': #PF page fault"), failure);
        FaultReport fault = report.faults().getFirst();
        assertEquals("cpu0", fault.cpu());
        assertTrue(fault.text().lines().findFirst().orElseThrow().endsWith(" on cpu0 ==="), fault.text());
    }

    @Test
    void withOneCpu_theSameFault_namesNoCpu() {
        BootReport report;
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, KMAIN_READS_UNMAPPED), BootOptions.defaults())) {
            report = boot.run();
        }
        assertTrue(report.failure().orElseThrow().startsWith("triple fault in stage 'kmain'"), report.failure().get());
        assertEquals(null, report.faults().getFirst().cpu());
    }
}
