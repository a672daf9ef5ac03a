package dev.kemu.machine.interrupts;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What CPUID leaf 1 tells a kernel about the APIC: present (EDX bit 9); no x2APIC (ECX bit 21), which kemu lacks. */
class CpuidApicBitsTest {
    @TempDir
    Path dir;

    @Test
    void cpuidLeaf1_advertisesTheApic_butNotX2apic() {
        InterruptGuest.Outcome run = InterruptGuest.boot(dir, """
                    mov eax, 1
                    cpuid
                    mov r12, rcx
                    mov r13, rdx
                    xor eax, eax
                    out EXIT_PORT, al
                    ret
                """);
        assertEquals(1, (run.gpr(13) >> 9) & 1, "EDX.APIC");
        assertEquals(0, (run.gpr(12) >> 21) & 1, "ECX.x2APIC");
    }
}
