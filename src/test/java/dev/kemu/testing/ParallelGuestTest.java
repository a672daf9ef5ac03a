package dev.kemu.testing;

import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Many tests on two threads at once, each on its thread's machine: none sees another's writes. */
@ExtendWith(KemuExtension.class)
@Execution(ExecutionMode.CONCURRENT)
class ParallelGuestTest {
    @RepeatedTest(40)
    void eachRun_startsFromTheSnapshot_andKeepsItsOwnWrites(Guest guest, RepetitionInfo repetition) {
        long value = 1000 + repetition.getCurrentRepetition();
        GuestRun run = guest.set(X86Reg.RDI, value).run("""
                    movabs rsi, 0xffff800000500000
                    mov rax, [rsi]                    # must be pristine: 0
                    mov [rsi], rdi
                    mov ecx, 20000
                1:  loop 1b                           # give the other thread time to interfere
                    mov rbx, [rsi]
                """);
        assertTrue(run.completed(), run.describe());
        assertEquals(0, run.rax());
        assertEquals(value, run.register(X86Reg.RBX));
    }
}
