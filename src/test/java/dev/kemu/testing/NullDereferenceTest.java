package dev.kemu.testing;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.debug.FaultReport;
import dev.kemu.machine.ExceptionVector;
import dev.kemu.machine.StopReason;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Once in the higher half the kernel runs on tables without the boot identity map, so the
 * first page (and the whole lower half) is unmapped: a NULL dereference is a #PF with a
 * report, in a guest test snippet as in kmain, instead of a silent access to physical 0.
 */
@ExtendWith(KemuExtension.class)
class NullDereferenceTest {

    @Test
    void nullRead_inASnippet_isAPageFaultAtAddressZero(Guest guest) {
        GuestRun run = guest.run("""
                    xor eax, eax
                    mov rbx, qword ptr [rax]
                """);
        assertEquals(StopReason.UNHANDLED_EXCEPTION, run.stopReason(), run.describe());
        FaultReport fault = run.fault().orElseThrow(() -> new AssertionError("no fault report: " + run.describe()));
        assertEquals(ExceptionVector.PF, fault.vector());
        assertEquals("0x0", fault.address());
        assertEquals("read", fault.access());
        assertTrue(fault.reason().startsWith("PML4 entry 0 not present"), fault.reason());
    }

    @Test
    void nullWrite_inASnippet_isAPageFaultAtAddressZero_andPhysicalZeroIsUntouched(Guest guest) {
        byte[] before = guest.machine().machine().ram().read(0, 8);
        GuestRun run = guest.run("""
                    xor eax, eax
                    mov qword ptr [rax], 0x5a
                """);
        assertEquals(StopReason.UNHANDLED_EXCEPTION, run.stopReason(), run.describe());
        FaultReport fault = run.fault().orElseThrow(() -> new AssertionError("no fault report: " + run.describe()));
        assertEquals(ExceptionVector.PF, fault.vector());
        assertEquals("0x0", fault.address());
        assertEquals("write", fault.access());
        assertTrue(fault.reason().startsWith("PML4 entry 0 not present"), fault.reason());
        assertArrayEquals(before, guest.machine().machine().ram().read(0, 8), "physical 0 unchanged");
    }

    @Test
    void nullRead_inKmain_stopsTheBootWithAPageFaultReport(@TempDir Path dir) {
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, """
                    xor eax, eax
                    mov rax, qword ptr [rax]
                    xor eax, eax
                    out EXIT_PORT, al
                    ret
                """), BootOptions.defaults())) {
            BootReport report = boot.run();
            assertEquals(StopReason.UNHANDLED_EXCEPTION, report.run().reason(), report.run().detail());
            assertFalse(report.faults().isEmpty(), "a fault report");
            FaultReport fault = report.faults().getFirst();
            assertEquals(ExceptionVector.PF, fault.vector());
            assertEquals("0x0", fault.address());
            assertTrue(fault.ripSymbol().startsWith("kmain+"), fault.ripSymbol());
        }
    }
}
