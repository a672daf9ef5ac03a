package dev.kemu.boot;

import dev.kemu.debug.FaultPolicy;
import dev.kemu.debug.FaultReport;
import dev.kemu.machine.ExceptionVector;
import dev.kemu.machine.StopReason;
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

    /** KernelBoot serves every CPU's faults: cpu1, started by the test at a ud2 in low memory, stops the run. */
    @Test
    void withTwoCpus_aFaultOnCpu1_stopsTheBootWithAReportNamingCpu1() {
        BootReport report;
        try (KernelBoot boot = new KernelBoot(TestKernels.defaultKernel(),
                BootOptions.defaults().withCpus(2).withFaultPolicy(FaultPolicy.STOP))) {
            boot.machine().ram().write(0x6000, new byte[]{0x0f, 0x0b}); // ud2 at the STARTUP vector 6's page
            boot.cpus().startup(0, 1, 0x06);
            boot.cpus().deliverPendingIpis();
            report = boot.run();
        }
        assertEquals(StopReason.UNHANDLED_EXCEPTION, report.run().reason(), report.run().detail());
        assertEquals(ExceptionVector.UD, report.run().vector());
        assertTrue(report.run().detail().startsWith("cpu1: "), report.run().detail());
        String failure = report.failure().orElseThrow();
        // "triple fault": the reset ROM leaves cpu1 with an IDTR limit of 0 (not the 0xffff of a real INIT).
        assertTrue(failure.contains(" on cpu1 (cpu0 in stage '"), failure);
        FaultReport fault = report.faults().getLast();
        assertEquals("cpu1", fault.cpu());
        assertEquals("guest stopped (--on-fault=stop)", fault.outcome());
    }
}
