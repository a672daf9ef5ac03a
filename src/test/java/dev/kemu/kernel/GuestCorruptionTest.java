package dev.kemu.kernel;

import dev.kemu.kernel.mm.MmRoot;
import dev.kemu.kernel.slab.CacheLayout;
import dev.kemu.kernel.slab.KmemCache;
import dev.kemu.kernel.slab.SlabInfo;
import dev.kemu.testing.Guest;
import dev.kemu.testing.GuestRun;
import dev.kemu.testing.KemuExtension;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Guest code overwriting allocator metadata through the direct map: the test accessors report, never throw. */
@ExtendWith(KemuExtension.class)
class GuestCorruptionTest {

    @Test
    void guestOverwritesCacheDescriptors_slabInfoAndCheckAnswerWithFindings(Guest guest) {
        MmRoot root = guest.machine().memory().root();
        KmemCache kmalloc8 = KmemCache.of(root, root.kmallocFirstCache());
        GuestRun run = guest.set(X86Reg.RDI, root.toVirtual(kmalloc8.phys() + CacheLayout.CURRENT))
                .set(X86Reg.RSI, root.toVirtual(root.phys() + 96)) // cache table capacity
                .run("""
                    movabs rax, 0x7ffffffff000
                    mov qword ptr [rdi], rax
                    mov dword ptr [rsi], 1000000000
                """);
        assertTrue(run.completed(), run.describe());

        List<SlabInfo> rows = assertDoesNotThrow(run::slabInfo);
        assertTrue(rows.stream().anyMatch(r -> r.name().equals("kmalloc-8")), rows.toString());
        List<String> problems = assertDoesNotThrow(() -> run.memory().check());
        assertTrue(problems.contains("cache kmalloc-8 current slab P0x7ffffffff000: not the start of a slab inside RAM"),
                problems.toString());
    }
}
