package dev.kemu.testing;

import dev.kemu.debug.FaultPolicy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 12's #UD bug: after the user kernel's own #UD handler ran and returned, the snippet's closing
 * {@code hlt} must still end the run (it used to execute on into zeros and #PF loops).
 */
@ExtendWith(KemuExtension.class)
@KemuKernel(image = UserKernel.IMAGE, snapshotAt = "kernel_main")
class UdResumeHaltTest {
    @BeforeAll
    static void buildKernel() {
        UserKernel.build();
    }

    @Test
    void deliveredUd_thenMovs_thenHlt_endsTheRunAtTheHlt(Guest guest) {
        GuestRun run = guest.onFault(FaultPolicy.DELIVER).run("""
                ud2
                mov rax, 5
                mov rbx, 6
                hlt
                """);
        assertTrue(run.completed(), run.describe());
        assertEquals(5, run.rax(), run.describe());
        assertEquals(6, run.register(dev.kemu.unicorn.X86Reg.RBX), run.describe());
        assertEquals(1, run.read64(guest.machine().boot().symbols().address("ud_count")), run.describe());
    }

    @Test
    void deliveredUd_thenMovs_endsAtTheSnippetEnd(Guest guest) {
        GuestRun run = guest.onFault(FaultPolicy.DELIVER).run("""
                ud2
                mov rax, 5
                mov rbx, 6
                """);
        assertTrue(run.completed(), run.describe());
        assertEquals(5, run.rax(), run.describe());
    }

    @Test
    void deliveredUdTwice_thenHlt_endsTheRunAtTheHlt(Guest guest) {
        GuestRun run = guest.onFault(FaultPolicy.DELIVER).run("""
                ud2
                mov rax, 5
                ud2
                mov rbx, 6
                hlt
                """);
        assertTrue(run.completed(), run.describe());
        assertEquals(6, run.register(dev.kemu.unicorn.X86Reg.RBX), run.describe());
        assertEquals(2, run.read64(guest.machine().boot().symbols().address("ud_count")), run.describe());
    }
}
