package dev.kemu.machine.smp;

import dev.kemu.machine.StopReason;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What one CPU sees of another's writes: page-table changes only after its own invlpg (each engine has its
 * own TLB, as each CPU does), code changes from its next turn on (the scheduler drops its translated code).
 */
class CrossCpuCoherenceTest {
    private static final long OLD_FRAME = 0x400000, NEW_FRAME = 0x600000;

    @Test
    void aPageTableChangeByCpu0_isNotSeenByCpu1_untilCpu1InvalidatesTheEntry() {
        try (SmpGuest guest = new SmpGuest(2)) {
            guest.bsp.ram().write64(OLD_FRAME, 0x1111);
            guest.bsp.ram().write64(NEW_FRAME, 0x2222);
            guest.loadAp("""
                        mov rax, [0x400000]
                        mov [0x9200], rax
                        mov dword ptr [0x9300], 1
                    1:  cmp dword ptr [0x9304], 1
                        jne 1b
                        mov rax, [0x400000]
                        mov [0x9208], rax
                        invlpg [0x400000]
                        mov rax, [0x400000]
                        mov [0x9210], rax
                        cli
                        hlt
                    """);
            guest.loadBsp(SmpGuest.startAps(2) + """
                    3:  cmp dword ptr [0x9300], 1
                        jne 3b
                        mov rax, 0x600083
                        mov [0x32010], rax
                        invlpg [0x400000]
                        mov rax, [0x400000]
                        mov [0x9218], rax
                        mov dword ptr [0x9304], 1
                        cli
                        hlt
                    """);
            SmpRunResult result = guest.run();
            assertEquals(StopReason.HALTED, result.last().reason(), result.detail());
            assertEquals(0x1111, guest.bsp.ram().read64(0x9200), "cpu1 before the change");
            assertEquals(0x2222, guest.bsp.ram().read64(0x9218), "cpu0 after its own invlpg");
            assertEquals(0x1111, guest.bsp.ram().read64(0x9208), "cpu1 still translates through its stale TLB entry");
            assertEquals(0x2222, guest.bsp.ram().read64(0x9210), "cpu1 after its invlpg");
        }
    }

    @Test
    void codeRewrittenByCpu0_runsWithItsNewBytesOnCpu1() {
        try (SmpGuest guest = new SmpGuest(2)) {
            guest.bsp.ram().write(0x40000, new byte[]{(byte) 0xb8, 1, 0, 0, 0, (byte) 0xc3}); // mov eax, 1; ret
            guest.loadAp("""
                        mov rax, 0x40000
                        call rax
                        mov [0x9400], eax
                        mov dword ptr [0x9300], 1
                    1:  cmp dword ptr [0x9304], 1
                        jne 1b
                        mov rax, 0x40000
                        call rax
                        mov [0x9408], eax
                        cli
                        hlt
                    """);
            guest.loadBsp(SmpGuest.startAps(2) + """
                    3:  cmp dword ptr [0x9300], 1
                        jne 3b
                        mov byte ptr [0x40001], 2
                        mov dword ptr [0x9304], 1
                        cli
                        hlt
                    """);
            SmpRunResult result = guest.run();
            assertEquals(StopReason.HALTED, result.last().reason(), result.detail());
            assertEquals(1, guest.bsp.ram().read32(0x9400), "cpu1 ran the first bytes");
            assertEquals(2, guest.bsp.ram().read32(0x9408), "cpu1 ran the bytes cpu0 wrote, not its translation of the old ones");
        }
    }
}
