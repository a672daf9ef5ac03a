package dev.kemu.machine.interrupts;

import dev.kemu.machine.StopReason;
import dev.kemu.machine.devices.Pit8254;
import dev.kemu.testutil.GuestTraps;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The PIT's IRQ0 through the remapped 8259A to the guest's handler, in virtual time, from guest code. */
class PicPitInterruptTest {
    @TempDir
    Path dir;

    /** Counts timer interrupts in R12 with EOI; kmain sleeps in hlt until five arrived. */
    private static final String FIVE_TICKS = GuestTraps.gate(0x20, "timer") + InterruptGuest.remapPic(0xfe, 0xff)
            + InterruptGuest.pitChannel0(2, 1000) + """
                xor r12, r12
                sti
            1:  hlt
                cmp r12, 5
                jb 1b
                cli
                xor eax, eax
                out EXIT_PORT, al
                ret
            timer:
                inc r12
                push rax
                mov al, 0x20        # non-specific EOI
                out 0x20, al
                pop rax
                iretq
            """ + GuestTraps.IDT_DATA;

    @Test
    void pitMode2_raisesIrq0AtItsRate_andHltSleepsUntilEachTick() {
        InterruptGuest.Outcome run = InterruptGuest.boot(dir, FIVE_TICKS);
        assertEquals(StopReason.EXIT_PORT, run.report().run().reason(), run.report().run().detail());
        assertEquals(5, run.gpr(12), "the handler ran once per tick");
        assertEquals(5, run.interrupts());
        long fiveTicks = 5 * 1000 * 1_000_000_000L / Pit8254.HZ; // 5 periods of 1000 PIT ticks: ~4.19 ms
        assertTrue(run.virtualNanos() >= fiveTicks && run.virtualNanos() < fiveTicks + 1_000_000,
                "virtual time " + run.virtualNanos() + " ns, five periods are " + fiveTicks + " ns");
    }

    @Test
    void pitMode3_squareWave_alsoInterruptsOncePerPeriod() {
        InterruptGuest.Outcome run = InterruptGuest.boot(dir, FIVE_TICKS.replace(InterruptGuest.pitChannel0(2, 1000),
                InterruptGuest.pitChannel0(3, 1000)));
        assertEquals(StopReason.EXIT_PORT, run.report().run().reason(), run.report().run().detail());
        assertEquals(5, run.interrupts());
        long fiveTicks = 5 * 1000 * 1_000_000_000L / Pit8254.HZ;
        assertTrue(run.virtualNanos() >= fiveTicks && run.virtualNanos() < fiveTicks + 1_000_000, run.virtualNanos() + " ns");
    }

    @Test
    void interruptWithoutAGate_stopsTheRunNamingTheVector() {
        InterruptGuest.Outcome run = InterruptGuest.boot(dir, GuestTraps.gate(0x21, "unused")
                + InterruptGuest.remapPic(0xfe, 0xff) + InterruptGuest.pitChannel0(2, 100) + """
                    sti
                1:  hlt
                    jmp 1b
                unused:
                    iretq
                """ + GuestTraps.IDT_DATA);
        assertEquals(StopReason.UNHANDLED_EXCEPTION, run.report().run().reason());
        assertEquals(0x20, run.report().run().vector());
        String detail = run.report().run().detail();
        assertTrue(detail.startsWith("external interrupt vector 32 (0x20) at RIP 0x"), detail);
        assertTrue(detail.contains("kemu stops here instead"), detail);
    }

    @Test
    void sameGuest_sameCountsAndTimeOnEveryRun() {
        InterruptGuest.Outcome first = InterruptGuest.boot(dir, FIVE_TICKS);
        for (int i = 0; i < 3; i++) {
            InterruptGuest.Outcome again = InterruptGuest.boot(dir, FIVE_TICKS);
            assertEquals(first.report().run().instructions(), again.report().run().instructions());
            assertEquals(first.virtualNanos(), again.virtualNanos());
            assertEquals(first.interrupts(), again.interrupts());
            assertEquals(first.report().console(), again.report().console());
        }
    }

    @Test
    void maskedIrq0_neverArrives_andHltSleepsUntilTheWakeupLimit() {
        InterruptGuest.Outcome run = InterruptGuest.boot(dir, GuestTraps.gate(0x20, "timer")
                + InterruptGuest.remapPic(0xff, 0xff) + InterruptGuest.pitChannel0(2, 65535) + """
                    sti
                    hlt
                    ret
                timer:
                    iretq
                """ + GuestTraps.IDT_DATA);
        assertEquals(StopReason.HALTED, run.report().run().reason());
        assertTrue(run.report().run().detail().contains("woke nothing deliverable"), run.report().run().detail());
        assertEquals(0, run.interrupts());
    }

    @Test
    void hltWithInterruptsEnabled_andNoTimer_endsHaltedAndSaysWhy() {
        InterruptGuest.Outcome run = InterruptGuest.boot(dir, InterruptGuest.remapPic(0xfe, 0xff) + """
                    sti
                    hlt
                    ret
                """);
        assertEquals(StopReason.HALTED, run.report().run().reason());
        assertTrue(run.report().run().detail().contains("with interrupts enabled and no timer armed"),
                run.report().run().detail());
    }
}
