package dev.kemu.machine.interrupts;

import dev.kemu.machine.StopReason;
import dev.kemu.testutil.GuestTraps;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The local APIC from guest code: registers, the timer (periodic, one-shot, divide), EOI. */
class LocalApicTimerTest {
    @TempDir
    Path dir;

    @Test
    void periodicTimer_interruptsAtItsPeriod_andEoiLetsTheNextOneIn() {
        InterruptGuest.Outcome run = InterruptGuest.boot(dir, InterruptGuest.MAP_APICS + GuestTraps.gate(0x40, "tick")
                + InterruptGuest.ENABLE_APIC + """
                    mov dword ptr [rbx + 0x320], 0x20040   # LVT timer: periodic, vector 0x40
                    mov dword ptr [rbx + 0x380], 100000    # 100 us at 1 GHz, divide 1
                    xor r12, r12
                    sti
                1:  hlt
                    cmp r12, 3
                    jb 1b
                    cli
                    mov r13d, [rbx + 0x390]                # current count
                    mov r14d, [rbx + 0x30]                 # version
                    mov r15d, [rbx + 0x20]                 # ID
                    xor eax, eax
                    out EXIT_PORT, al
                    ret
                tick:
                    inc r12
                    mov dword ptr [rbx + 0xb0], 0          # EOI
                    iretq
                """ + GuestTraps.IDT_DATA);
        assertEquals(StopReason.EXIT_PORT, run.report().run().reason(), run.report().run().detail());
        assertEquals(3, run.gpr(12));
        assertEquals(0x50014, run.gpr(14), "version 0x14 with six LVT entries, as QEMU");
        assertEquals(0, run.gpr(15), "APIC ID 0");
        assertTrue(run.gpr(13) > 0 && run.gpr(13) <= 100000, "current count " + run.gpr(13));
        assertTrue(run.virtualNanos() >= 300_000 && run.virtualNanos() < 310_000, run.virtualNanos() + " ns");
    }

    @Test
    void oneShotTimer_firesOnce_thenHltHasNothingToWaitFor() {
        InterruptGuest.Outcome run = InterruptGuest.boot(dir, InterruptGuest.MAP_APICS + GuestTraps.gate(0x41, "tick")
                + InterruptGuest.ENABLE_APIC + """
                    mov dword ptr [rbx + 0x3e0], 0x3       # divide by 16
                    mov dword ptr [rbx + 0x320], 0x41      # one-shot, vector 0x41
                    mov dword ptr [rbx + 0x380], 1000      # 16 us
                    xor r12, r12
                    sti
                1:  hlt
                    jmp 1b
                tick:
                    inc r12
                    mov r13d, [rbx + 0x390]                # 0 once expired
                    mov dword ptr [rbx + 0xb0], 0
                    iretq
                """ + GuestTraps.IDT_DATA);
        assertEquals(StopReason.HALTED, run.report().run().reason());
        assertTrue(run.report().run().detail().contains("no timer armed"), run.report().run().detail());
        assertEquals(1, run.gpr(12));
        assertEquals(0, run.gpr(13));
        assertTrue(run.virtualNanos() >= 16_000 && run.virtualNanos() < 16_000 + 20_000, run.virtualNanos() + " ns (boot included)");
    }

    @Test
    void maskedLvtTimer_neverInterrupts() {
        InterruptGuest.Outcome run = InterruptGuest.boot(dir, InterruptGuest.MAP_APICS + GuestTraps.gate(0x40, "tick")
                + InterruptGuest.ENABLE_APIC + """
                    mov dword ptr [rbx + 0x320], 0x30040   # periodic, masked
                    mov dword ptr [rbx + 0x380], 1000
                    xor r12, r12
                    sti
                    mov ecx, 20000
                1:  loop 1b
                    mov r13d, [rbx + 0x390]
                    xor eax, eax
                    out EXIT_PORT, al
                    ret
                tick:
                    inc r12
                    iretq
                """ + GuestTraps.IDT_DATA);
        assertEquals(StopReason.EXIT_PORT, run.report().run().reason(), run.report().run().detail());
        assertEquals(0, run.gpr(12));
        assertEquals(0, run.interrupts());
    }
}
