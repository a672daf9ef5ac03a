package dev.kemu.machine.interrupts;

import dev.kemu.testutil.GuestTraps;

/**
 * The interrupt-boundary guests that per-instruction counting (NestedInterruptsTest) and per-block counting
 * (BlockCountingTest) must both get right: a self IPI to vector 0x40 made pending while IF is clear, then
 * {@code enable}, which sets IF and steps R13 through 1, 2, ... an instruction at a time. The handler copies
 * R13 into R14, so R14 names the instruction boundary the interrupt was taken at.
 */
final class PendingSelfIpiGuest {
    /** sti: its shadow lets exactly one more instruction run first (R14 = 1). */
    static final String AFTER_STI = guest("""
                sti
                mov r13, 1                             # in the shadow of sti
                mov r13, 2
                mov r13, 3
            """);

    /** popf setting IF: no shadow, the interrupt comes at the next boundary (R14 = 0). */
    static final String AFTER_POPF = guest("""
                push 0x202
                popfq                                  # IF = 1: no shadow
                mov r13, 1
            """);

    private static String guest(String enable) {
        return InterruptGuest.MAP_APICS + GuestTraps.gate(0x40, "isr") + InterruptGuest.ENABLE_APIC + """
                    cli
                    xor r12, r12
                    xor r13, r13
                    mov dword ptr [rbx + 0x300], 0x40040   # self IPI, vector 0x40: pending while IF is clear
                """ + enable + """
                1:  cmp r12, 1
                    jb 1b
                """ + InterruptGuest.EXIT + """
                isr:
                    mov r14, r13
                    inc r12
                    mov dword ptr [rbx + 0xb0], 0
                    iretq
                """ + GuestTraps.IDT_DATA;
    }

    private PendingSelfIpiGuest() {}
}
