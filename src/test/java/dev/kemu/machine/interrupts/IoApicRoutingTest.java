package dev.kemu.machine.interrupts;

import dev.kemu.machine.StopReason;
import dev.kemu.testutil.GuestTraps;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The I/O APIC from guest code: its registers, the PIT on GSI 2 and COM1 on GSI 4, with the PIC masked. */
class IoApicRoutingTest {
    @TempDir
    Path dir;

    /** Redirection entry {@code gsi} := {@code vector}, fixed, physical destination APIC 0. */
    private static String route(int gsi, int vector) {
        return """
                    mov dword ptr [rbp], %1$d
                    mov dword ptr [rbp + 0x10], 0
                    mov dword ptr [rbp], %2$d
                    mov dword ptr [rbp + 0x10], %3$d
                """.formatted(0x11 + 2 * gsi, 0x10 + 2 * gsi, vector);
    }

    @Test
    void registers_idVersionAndMaskedEntriesAtReset() {
        InterruptGuest.Outcome run = InterruptGuest.boot(dir, InterruptGuest.MAP_APICS + """
                    mov dword ptr [rbp], 1
                    mov r12d, [rbp + 0x10]                 # version
                    mov dword ptr [rbp], 0x14
                    mov r13d, [rbp + 0x10]                 # entry 2, low dword
                    mov dword ptr [rbp], 0
                    mov dword ptr [rbp + 0x10], 0x05000000
                    mov r14d, [rbp + 0x10]                 # ID, as written
                    xor eax, eax
                    out EXIT_PORT, al
                    ret
                """);
        assertEquals(0x00170020L, run.gpr(12), "24 entries, version 0x20, as QEMU's");
        assertEquals(0x10000L, run.gpr(13), "masked at reset");
        assertEquals(0x05000000L, run.gpr(14));
    }

    @Test
    void pitIrq0_arrivesOnGsi2_atTheVectorOfItsEntry() {
        InterruptGuest.Outcome run = InterruptGuest.boot(dir, InterruptGuest.MAP_APICS + GuestTraps.gate(0x50, "tick")
                + GuestTraps.gate(0x22, "wrong") + InterruptGuest.ENABLE_APIC + InterruptGuest.remapPic(0xff, 0xff)
                + route(2, 0x50) + InterruptGuest.pitChannel0(2, 2000) + """
                    xor r12, r12
                    xor r13, r13
                    sti
                1:  hlt
                    cmp r12, 3
                    jb 1b
                    cli
                    xor eax, eax
                    out EXIT_PORT, al
                    ret
                tick:
                    inc r12
                    mov dword ptr [rbx + 0xb0], 0
                    iretq
                wrong:
                    inc r13
                    iretq
                """ + GuestTraps.IDT_DATA);
        assertEquals(StopReason.EXIT_PORT, run.report().run().reason(), run.report().run().detail());
        assertEquals(3, run.gpr(12));
        assertEquals(0, run.gpr(13), "nothing came through the masked PIC");
    }

    @Test
    void com1ThrEmpty_raisesIrq4OnGsi4_untilIirIsRead() {
        InterruptGuest.Outcome run = InterruptGuest.boot(dir, InterruptGuest.MAP_APICS + GuestTraps.gate(0x51, "uart")
                + InterruptGuest.ENABLE_APIC + InterruptGuest.remapPic(0xff, 0xff) + route(4, 0x51) + """
                    xor r12, r12
                    sti
                    mov dx, 0x3f9
                    mov al, 0x02                           # IER: THR empty
                    out dx, al
                    mov ecx, 1000
                1:  loop 1b
                    cli
                    xor eax, eax
                    out EXIT_PORT, al
                    ret
                uart:
                    inc r12
                    push rdx
                    push rax
                    mov dx, 0x3fa
                    in al, dx                              # IIR: THR empty, acknowledged by the read
                    movzx r13, al
                    mov dword ptr [rbx + 0xb0], 0
                    pop rax
                    pop rdx
                    iretq
                """ + GuestTraps.IDT_DATA);
        assertEquals(StopReason.EXIT_PORT, run.report().run().reason(), run.report().run().detail());
        assertEquals(1, run.gpr(12), "one interrupt: the IIR read lowered the line");
        assertEquals(0x02, run.gpr(13), "IIR said THR empty");
    }

    @Test
    void com1_throughThePic_onIrq4() {
        InterruptGuest.Outcome run = InterruptGuest.boot(dir, GuestTraps.gate(0x24, "uart")
                + InterruptGuest.remapPic(0xef, 0xff) + """
                    xor r12, r12
                    sti
                    mov dx, 0x3f9
                    mov al, 0x02
                    out dx, al
                    mov ecx, 1000
                1:  loop 1b
                    cli
                    xor eax, eax
                    out EXIT_PORT, al
                    ret
                uart:
                    inc r12
                    push rdx
                    push rax
                    mov dx, 0x3fa
                    in al, dx
                    mov al, 0x20
                    out 0x20, al
                    pop rax
                    pop rdx
                    iretq
                """ + GuestTraps.IDT_DATA);
        assertEquals(StopReason.EXIT_PORT, run.report().run().reason(), run.report().run().detail());
        assertEquals(1, run.gpr(12));
    }
}
