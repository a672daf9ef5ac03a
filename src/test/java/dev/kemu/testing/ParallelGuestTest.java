package dev.kemu.testing;

import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import org.junit.jupiter.api.AfterAll;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Many tests on two threads at once, each on its thread's machine: none sees another's writes. */
@ExtendWith(KemuExtension.class)
@Execution(ExecutionMode.CONCURRENT)
class ParallelGuestTest {
    /** Each thread's machine as its snapshot has it, to compare whole machines after a reset. */
    private static final Map<TestMachine, MachineImage> pristine = new ConcurrentHashMap<>();

    @AfterAll
    static void closeImages() {
        pristine.values().forEach(MachineImage::close);
        pristine.clear();
    }

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

    @RepeatedTest(12)
    void eachReset_whileOtherThreadsStore_restoresThisMachineExactly(Guest guest, RepetitionInfo repetition) {
        TestMachine machine = guest.machine();
        MachineImage image = pristine.computeIfAbsent(machine, m -> {
            m.reset();
            return new MachineImage(m.machine());
        });
        long value = 0x1111_0000L * repetition.getCurrentRepetition();
        GuestRun run = guest.set(X86Reg.RAX, value).run(String.format("""
                    movabs rdi, 0x%x
                    mov ecx, 8192                     # 64 KiB over 16 pages, while the other thread does the same
                    rep stosq
                    mov edi, 3 * 4096
                    HYPERCALL HC_VMALLOC
                    mov qword ptr [rax + 4096], rdi
                    lea rdx, [rip + console_put_dec]
                    mov byte ptr [rdx], 0xc3          # patched kernel code must not leak into the next test
                """, 0xffff_8000_0040_0000L + (repetition.getCurrentRepetition() % 4) * 0x10000));
        assertTrue(run.completed(), run.describe());
        machine.reset();
        assertEquals(Optional.empty(), image.difference(machine.machine()), "after repetition " + repetition.getCurrentRepetition());
        assertEquals("255", guest.call("console_put_dec", 255).console());
    }
}
