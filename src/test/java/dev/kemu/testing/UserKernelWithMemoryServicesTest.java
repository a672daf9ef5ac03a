package dev.kemu.testing;

import dev.kemu.boot.KernelSources;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A user kernel that does use kemu's memory services: kemu's own kernel image named through {@link KemuKernel},
 * snapshotted at {@code say} (first reached in mm_demo.S just after HC_MM_INIT). The allocator assertions work
 * as they do for the bundled kernel.
 */
@ExtendWith(KemuExtension.class)
@KemuKernel(image = "target/kernel/default/kernel.elf", snapshotAt = "say")
class UserKernelWithMemoryServicesTest {
    @BeforeAll
    static void buildKernel() {
        KernelSources.defaults().build();
    }

    @Test
    void kmalloc_fromASnippet_showsInTheSlabInfo(Guest guest) {
        assertTrue(guest.machine().usesMemoryServices());
        long before = activeKmalloc128(guest.run("nop"));
        GuestRun run = guest.set(X86Reg.RDI, 100).run("""
                    xor esi, esi
                    HYPERCALL HC_KMALLOC
                    mov qword ptr [rax + 96], 42
                """);
        assertTrue(run.completed(), run.describe());
        assertEquals(42, run.read64(run.rax() + 96));
        assertEquals(before + 1, activeKmalloc128(run), run.slabInfo().toString());
    }

    private static long activeKmalloc128(GuestRun run) {
        return run.slabInfo().stream().filter(info -> info.name().equals("kmalloc-128")).findFirst()
                .orElseThrow(() -> new AssertionError("no kmalloc-128 cache: " + run.slabInfo())).activeObjects();
    }
}
