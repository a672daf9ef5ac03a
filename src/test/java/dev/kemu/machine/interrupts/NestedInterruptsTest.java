package dev.kemu.machine.interrupts;

import dev.kemu.machine.ExceptionVector;
import dev.kemu.machine.StopReason;
import dev.kemu.testutil.GuestTraps;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Priorities and boundaries from guest code: APIC self-IPIs nest by priority class (a higher class
 * interrupts a handler that re-enabled interrupts, a lower one waits for the EOI), the interrupt shadow
 * after sti, and a timer interrupt taken while the guest's own #PF handler runs.
 */
class NestedInterruptsTest {
    @TempDir
    Path dir;

    @Test
    void selfIpis_higherClassNests_lowerClassWaitsForTheEoi() {
        InterruptGuest.Outcome run = InterruptGuest.boot(dir, InterruptGuest.MAP_APICS + GuestTraps.gate(0x40, "mid")
                + GuestTraps.gate(0x80, "high") + GuestTraps.gate(0x30, "low") + InterruptGuest.ENABLE_APIC + """
                    lea r15, [rip + order]
                    xor r12, r12
                    mov dword ptr [rbx + 0x310], 0
                    mov dword ptr [rbx + 0x300], 0x40040   # self IPI, fixed, vector 0x40
                    sti
                1:  cmp r12, 4
                    jb 1b
                    mov r13d, [r15]
                """ + InterruptGuest.EXIT + """
                mid:
                    mov byte ptr [r15 + r12], 0x40
                    inc r12
                    sti
                    mov dword ptr [rbx + 0x300], 0x40030   # lower class than in service: waits
                    mov dword ptr [rbx + 0x300], 0x40080   # higher class: runs now
                    mov byte ptr [r15 + r12], 0x41
                    inc r12
                    cli
                    mov dword ptr [rbx + 0xb0], 0
                    iretq
                high:
                    mov byte ptr [r15 + r12], 0x80
                    inc r12
                    mov dword ptr [rbx + 0xb0], 0
                    iretq
                low:
                    mov byte ptr [r15 + r12], 0x30
                    inc r12
                    mov dword ptr [rbx + 0xb0], 0
                    iretq
                .section .data
                order: .quad 0
                """ + GuestTraps.IDT_DATA);
        assertEquals(StopReason.EXIT_PORT, run.report().run().reason(), run.report().run().detail());
        assertEquals(0x30418040L, run.gpr(13), "order of handler entries, lowest byte first");
    }

    @Test
    void sti_theNextInstructionRunsBeforeAPendingInterrupt() {
        InterruptGuest.Outcome run = InterruptGuest.boot(dir, PendingSelfIpiGuest.AFTER_STI);
        assertEquals(StopReason.EXIT_PORT, run.report().run().reason(), run.report().run().detail());
        assertEquals(1, run.gpr(14), "the interrupt came after exactly one instruction past sti");
    }

    @Test
    void popf_settingIf_deliversAtTheNextBoundary() {
        InterruptGuest.Outcome run = InterruptGuest.boot(dir, PendingSelfIpiGuest.AFTER_POPF);
        assertEquals(StopReason.EXIT_PORT, run.report().run().reason(), run.report().run().detail());
        assertEquals(0, run.gpr(14), "delivered right after popf");
    }

    @Test
    void timerInterrupt_arrivesWhileTheGuestsPageFaultHandlerRuns() {
        InterruptGuest.Outcome run = InterruptGuest.boot(dir, InterruptGuest.MAP_APICS
                + GuestTraps.gate(ExceptionVector.PF, "pf") + GuestTraps.gate(0x40, "tick") + InterruptGuest.ENABLE_APIC
                + """
                    mov dword ptr [rbx + 0x320], 0x20040   # periodic, vector 0x40
                    mov dword ptr [rbx + 0x380], 5000
                    xor r11, r11
                    xor r12, r12
                    sti
                    movabs rax, 0x0000010000000000         # not mapped
                    mov rcx, [rax]                         # #PF; the handler skips these 3 bytes
                    mov r14, 7
                """ + InterruptGuest.EXIT + """
                pf:
                    sti                                    # the handler lets interrupts in
                    mov r13, r12
                2:  cmp r12, r13
                    je 2b                                  # until a tick arrives inside it
                    inc r11
                    add rsp, 8                             # the error code
                    add qword ptr [rsp], 3
                    iretq
                tick:
                    inc r12
                    mov dword ptr [rbx + 0xb0], 0
                    iretq
                """ + GuestTraps.IDT_DATA);
        assertEquals(StopReason.EXIT_PORT, run.report().run().reason(), run.report().run().detail());
        assertEquals(1, run.gpr(11), "the #PF handler saw a tick");
        assertEquals(7, run.gpr(14), "and returned past the faulting load");
    }
}
