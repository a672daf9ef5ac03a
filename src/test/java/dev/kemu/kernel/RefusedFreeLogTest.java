package dev.kemu.kernel;

import dev.kemu.kernel.mm.FreeResult;
import dev.kemu.testing.Guest;
import dev.kemu.testing.GuestRun;
import dev.kemu.testing.KemuExtension;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 11: a guest refusing frees in a loop must not grow the host's report list without bound. */
@ExtendWith(KemuExtension.class)
class RefusedFreeLogTest {

    @Test
    void moreRefusedFreesThanTheCap_keepsTheFirstThousandAndCountsTheRest(Guest guest) {
        int frees = BoundedLog.MAX_ENTRIES + 25;
        GuestRun run = guest.set(X86Reg.RBX, frees).budget(200_000).run("""
                1:
                    mov edi, 0x12345678           # no kmalloc object: refused, NOT_ALLOCATED
                    HYPERCALL HC_KFREE
                    dec rbx
                    jnz 1b
                """);
        assertTrue(run.completed(), run.describe());

        assertEquals(BoundedLog.MAX_ENTRIES, run.invalidFrees().size());
        assertEquals(25, guest.machine().boot().services().droppedInvalidFrees());
        InvalidFree first = run.invalidFrees().getFirst();
        assertEquals("kfree", first.call());
        assertEquals(0x12345678L, first.address());
        assertEquals(FreeResult.NOT_ALLOCATED, first.result());
    }

    @Test
    void clearReports_forgetsTheDroppedCountToo(Guest guest) {
        guest.set(X86Reg.RBX, BoundedLog.MAX_ENTRIES + 1).budget(200_000).run("""
                1:
                    mov edi, 0x12345678
                    HYPERCALL HC_KFREE
                    dec rbx
                    jnz 1b
                """);
        KernelServices services = guest.machine().boot().services();
        assertEquals(1, services.droppedInvalidFrees());

        services.clearReports();

        assertEquals(0, services.droppedInvalidFrees());
        assertEquals(0, services.invalidFrees().size());
    }
}
