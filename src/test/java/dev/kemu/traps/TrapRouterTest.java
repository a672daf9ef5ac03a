package dev.kemu.traps;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.debug.FaultPolicy;
import dev.kemu.machine.CpuException;
import dev.kemu.machine.ExceptionOutcome;
import dev.kemu.machine.ExceptionVector;
import dev.kemu.machine.StopReason;
import dev.kemu.testutil.GuestTraps;
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

    @Test
    void withTwoCpus_theTraceLineNamesTheCpuThatFaulted() {
        List<String> lines = new ArrayList<>();
        try (KernelBoot boot = new KernelBoot(TestKernels.defaultKernel(), BootOptions.defaults().withCpus(2))) {
            TrapRouter router = new TrapRouter(boot.services()::memory, boot.faultAnalyzer(), FaultPolicy.STOP,
                    () -> true, lines::add);
            boot.machine().setExceptionHandler(router);
            router.serveCpu(boot.cpus().machine(1), boot.faultAnalyzer().forCpu(boot.cpus().machine(1), "cpu1"));
            boot.machine().ram().write(0x6000, new byte[]{0x0f, 0x0b}); // cpu1 starts at a ud2 (STARTUP vector 6)
            boot.cpus().startup(0, 1, 0x06);
            boot.cpus().deliverPendingIpis();
            BootReport report = boot.run();
            assertEquals(StopReason.UNHANDLED_EXCEPTION, report.run().reason(), report.run().detail());
            assertEquals(1, lines.size(), lines.toString());
            assertTrue(lines.getFirst().startsWith("cpu1 trap #UD (vector 6) address=0x0 rip=0x0 cpl=0: guest stopped"),
                    lines.getFirst());
        }
    }

    @Test
    void cpuException_carriesVectorErrorCodeCr2RipCplAndWhetherTheIdtHasAGate() {
        List<String> seen = new ArrayList<>();
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, """
                    lea rdi, [rip + idt]
                    mov word ptr [rdi + 6 * 16 + 4], 0x8E00  # a present #UD gate (handler 0: never entered)
                    mov word ptr [rdi + 6 * 16 + 2], 0x08
                    lidt [rip + idtr]
                    movabs rax, 0x0000100000000000
                pf_here:
                    mov qword ptr [rax], rcx             # #PF, write, not present (3 bytes)
                    ud2                                  # #UD, no error code
                    ret
                """ + GuestTraps.IDT_DATA), BootOptions.defaults())) {
            long pfHere = boot.symbols().address("pf_here");
            boot.machine().setExceptionHandler((machine, e) -> {
                seen.add(describe(e));
                if (e.is(ExceptionVector.PF)) {
                    machine.setRegister(dev.kemu.unicorn.X86Reg.RIP, e.rip() + 3); // skip the 3-byte store
                    machine.finishException();
                    return ExceptionOutcome.RESUME;
                }
                return ExceptionOutcome.STOP;
            });
            BootReport report = boot.run();
            assertEquals(ExceptionVector.UD, report.run().vector(), report.run().detail());
            assertEquals(List.of(
                    String.format("vector=14 error=0x2 cr2=0x100000000000 rip=0x%x cpl=0 gate=false", pfHere),
                    String.format("vector=6 error=none cr2=0x0 rip=0x%x cpl=0 gate=true", pfHere + 3)), seen);
        }
    }

    private static String describe(CpuException e) {
        return String.format("vector=%d error=%s cr2=0x%x rip=0x%x cpl=%d gate=%b", e.vector(),
                e.errorCode().isPresent() ? "0x" + Integer.toHexString(e.errorCode().getAsInt()) : "none", e.cr2(),
                e.rip(), e.cpl(), e.hasIdtGate());
    }
}
