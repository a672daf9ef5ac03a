package dev.kemu.machine.interrupts;

import dev.kemu.machine.StopReason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** RDTSC and RDTSCP read the virtual clock: one tick per retired instruction, the same on every run. */
class TimeStampCounterTest {
    @TempDir
    Path dir;

    private static final String TWO_READS = """
                rdtsc
                shl rdx, 32
                or rax, rdx
                mov r12, rax
                mov ecx, 1000
            1:  loop 1b
                mov ecx, 0xc0000103                    # IA32_TSC_AUX
                mov eax, 7
                xor edx, edx
                wrmsr
                rdtscp
                shl rdx, 32
                or rax, rdx
                sub rax, r12
                mov r13, rax
                mov r14, rcx
                xor eax, eax
                out EXIT_PORT, al
                ret
            """;

    @Test
    void rdtsc_advancesByTheInstructionsBetweenTwoReads() {
        InterruptGuest.Outcome run = InterruptGuest.boot(dir, TWO_READS);
        assertEquals(StopReason.EXIT_PORT, run.report().run().reason(), run.report().run().detail());
        // after the first rdtsc: shl, or, mov, mov, 1000 x loop, mov, mov, xor, wrmsr, then rdtscp itself
        assertEquals(4 + 1000 + 4 + 1, run.gpr(13));
        assertEquals(7, run.gpr(14), "RDTSCP's ECX is IA32_TSC_AUX");
    }

    @Test
    void rdtsc_sameValuesOnEveryRun() {
        InterruptGuest.Outcome first = InterruptGuest.boot(dir, TWO_READS);
        InterruptGuest.Outcome second = InterruptGuest.boot(dir, TWO_READS);
        assertEquals(first.gpr(12), second.gpr(12));
        assertEquals(first.gpr(13), second.gpr(13));
    }
}
