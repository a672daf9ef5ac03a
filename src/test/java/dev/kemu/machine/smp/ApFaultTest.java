package dev.kemu.machine.smp;

import dev.kemu.debug.FaultAnalyzer;
import dev.kemu.debug.FaultPolicy;
import dev.kemu.debug.FaultReport;
import dev.kemu.elf.SymbolTable;
import dev.kemu.machine.ExceptionVector;
import dev.kemu.machine.StopReason;
import dev.kemu.traps.TrapRouter;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An application processor faults as the bootstrap CPU does: its exceptions go through the same trap router
 * (delivered through its own IDT under the fault policy, or a stop with a report), and the report names it.
 */
class ApFaultTest {
    /** 1 GiB: past SmpGuest's identity map (PDPT entry 1 is not present). */
    private static final long UNMAPPED = 0x4000_0000L;
    private static final long IDT = 0x40000, IDTR = 0x41000, HANDLER = 0x21000;

    private static final String BSP_STARTS_CPU1_AND_HALTS = SmpGuest.startAps(2) + """
                cli
                hlt
            """;

    @Test
    void aPageFaultOnCpu1WithoutAnIdt_stopsTheRunWithAReportNamingCpu1() {
        try (SmpGuest guest = new SmpGuest(2);
             FaultAnalyzer analyzer = new FaultAnalyzer(guest.bsp, SymbolTable.empty(), Optional::empty)) {
            analyzer.traceBlocks(8);
            TrapRouter router = serveBoth(guest, analyzer, FaultPolicy.AUTO);
            guest.loadAp("""
                        mov rax, 0x40000000
                        mov rbx, [rax]
                        cli
                        hlt
                    """);
            guest.loadBsp(BSP_STARTS_CPU1_AND_HALTS);

            SmpRunResult result = guest.run();

            assertEquals(1, result.cpu(), result.detail());
            assertEquals(StopReason.UNHANDLED_EXCEPTION, result.last().reason(), result.detail());
            assertTrue(result.detail().startsWith("cpu1: "), result.detail());
            assertEquals(1, router.reports().size(), "one report: " + router.reports());
            FaultReport report = router.reports().getFirst();
            assertEquals(ExceptionVector.PF, report.vector());
            assertEquals("0x40000000", report.address());
            assertEquals("cpu1", report.cpu());
            assertTrue(report.text().lines().findFirst().orElseThrow().endsWith("on cpu1 ==="), report.text());
            assertTrue(report.json().contains("\"cpu\":\"cpu1\""), report.json());
            assertTrue(report.outcome().contains("no gate for vector 14"), report.outcome());
            // cpu1's own blocks: the trampoline's last block, then the faulting routine at AP_CODE.
            assertTrue(report.text().contains("recent blocks on cpu1 (oldest first)\n"), report.text());
            assertEquals("0x20000", report.recentBlocks().getLast(), report.recentBlocks().toString());
            assertTrue(report.recentBlocks().stream().noneMatch(block -> block.startsWith("0x1")),
                    "no block of cpu0's code at 0x10000: " + report.recentBlocks());
        }
    }

    @Test
    void aPageFaultOnCpu1WithAGate_isDeliveredToItsHandler_withItsErrorCodeAndCr2() {
        try (SmpGuest guest = new SmpGuest(2);
             FaultAnalyzer analyzer = new FaultAnalyzer(guest.bsp, SymbolTable.empty(), Optional::empty)) {
            TrapRouter router = serveBoth(guest, analyzer, FaultPolicy.AUTO);
            writeGate(guest, ExceptionVector.PF, HANDLER);
            guest.bsp.ram().write(HANDLER, FlatBinary.assemble("""
                    .code64
                        pop rax
                        mov [0x9008], rax
                        mov rax, cr2
                        mov [0x9010], rax
                        cli
                        hlt
                    """, HANDLER));
            guest.loadAp("""
                        lidt [0x41000]
                        mov rax, 0x40000000
                        mov rbx, [rax]
                        ud2
                    """);
            guest.loadBsp(BSP_STARTS_CPU1_AND_HALTS);

            SmpRunResult result = guest.run();

            assertEquals(StopReason.HALTED, result.last().reason(), result.detail());
            assertEquals(CpuState.HALTED, guest.cpus.state(1));
            assertEquals(0, guest.bsp.ram().read64(0x9008), "#PF error code: not present, read, supervisor");
            assertEquals(UNMAPPED, guest.bsp.ram().read64(0x9010), "CR2 in cpu1's handler");
            FaultReport report = router.reports().getFirst();
            assertEquals("cpu1", report.cpu());
            assertEquals("delivered to the guest's #PF handler (vector 14)", report.outcome());
        }
    }

    @Test
    void withOneCpu_reportsNameNoCpu() {
        try (SmpGuest guest = new SmpGuest(1);
             FaultAnalyzer analyzer = new FaultAnalyzer(guest.bsp, SymbolTable.empty(), Optional::empty)) {
            TrapRouter router = new TrapRouter(Optional::empty, analyzer, FaultPolicy.AUTO);
            guest.bsp.setExceptionHandler(router);
            guest.loadBsp("""
                        mov rax, 0x40000000
                        mov rbx, [rax]
                    """);

            guest.run();

            FaultReport report = router.reports().getFirst();
            assertEquals(null, report.cpu());
            assertTrue(!report.json().contains("\"cpu\""), report.json());
            assertTrue(report.text().lines().findFirst().orElseThrow().endsWith(") ==="), report.text());
        }
    }

    /** As KernelBoot wires them: cpu0 with {@code analyzer}, cpu1 with its own, one router and one report log. */
    private static TrapRouter serveBoth(SmpGuest guest, FaultAnalyzer analyzer, FaultPolicy policy) {
        TrapRouter router = new TrapRouter(Optional::empty, analyzer, policy);
        guest.bsp.setExceptionHandler(router);
        analyzer.nameCpu("cpu0");
        router.serveCpu(guest.cpus.machine(1), analyzer.forCpu(guest.cpus.machine(1), "cpu1"));
        return router;
    }

    /** A 64-bit interrupt gate (type 0xe, DPL 0, present) to {@code handler} in the trampoline's 64-bit code segment. */
    private static void writeGate(SmpGuest guest, int vector, long handler) {
        long gate = IDT + 16L * vector;
        long low = (handler & 0xffff) | 0x18L << 16 | 0x8e00L << 32 | ((handler >>> 16) & 0xffff) << 48;
        guest.bsp.ram().write64(gate, low);
        guest.bsp.ram().write64(gate + 8, handler >>> 32);
        guest.bsp.ram().write16(IDTR, 16 * 256 - 1);
        guest.bsp.ram().write64(IDTR + 2, IDT);
    }
}
