package dev.kemu.traps;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.debug.FaultPolicy;
import dev.kemu.machine.StopReason;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The router's order (kernel services, then policy) and its one trace line per handled fault. */
class TrapRouterTest {
    @TempDir
    Path dir;

    @Test
    void eachHandledFault_logsOneTraceLine_withVectorAddressAndOutcome() {
        List<String> lines = new ArrayList<>();
        BootReport report;
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, """
                    push rdi
                    movabs rsi, offset kernel_phys_start
                    movabs rdx, offset kernel_phys_end
                    HYPERCALL HC_MM_INIT
                    pop rdi
                    mov edi, 2 * 4096
                    mov esi, PTE_WRITABLE
                    HYPERCALL HC_VMA_RESERVE
                    mov r12, rax
                    mov qword ptr [r12], 1             # demand-paged
                    mov qword ptr [r12 + 4096], 2      # demand-paged
                    ud2                                # reported, stops the guest
                    ret
                """), BootOptions.defaults())) {
            TrapRouter router = new TrapRouter(boot.services()::memory, boot.faultAnalyzer(), FaultPolicy.REPORT,
                    () -> true, lines::add);
            boot.machine().setExceptionHandler(router);
            report = boot.run();
            long area = report.run().cpu().gprs()[12];
            assertEquals(StopReason.UNHANDLED_EXCEPTION, report.run().reason(), report.run().detail());
            assertEquals(2, router.demandPagedFaults());
            assertEquals(3, lines.size(), lines.toString());
            assertTrue(lines.get(0).startsWith(String.format("trap #PF (vector 14) address=0x%x rip=0x", area)), lines.get(0));
            assertTrue(lines.get(0).endsWith("error=0x2: demand-paged"), lines.get(0));
            assertTrue(lines.get(1).startsWith(String.format("trap #PF (vector 14) address=0x%x ", area + 4096)),
                    lines.get(1));
            assertTrue(lines.get(2).matches("trap #UD \\(vector 6\\) address=0x(ffffffff8[0-9a-f]+) rip=0x\\1 cpl=0: "
                    + "guest stopped \\(--on-fault=report\\)"), lines.get(2));
            assertEquals(1, router.reports().size(), "demand-paged faults get no report");
        }
    }
}
