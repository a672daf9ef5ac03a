package dev.kemu.kernel;

import dev.kemu.kernel.mm.MmRoot;
import dev.kemu.kernel.slab.CacheLayout;
import dev.kemu.kernel.slab.KmemCache;
import dev.kemu.kernel.slab.SlabInfo;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.StopReason;
import dev.kemu.testing.Guest;
import dev.kemu.testing.GuestRun;
import dev.kemu.testing.KemuExtension;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Guest code overwriting allocator metadata through the direct map: the test accessors report, never throw. */
@ExtendWith(KemuExtension.class)
class GuestCorruptionTest {

    @Test
    void guestOverwritesCacheDescriptors_slabInfoAndCheckAnswerWithFindings(Guest guest) {
        MmRoot root = guest.machine().memory().root();
        KmemCache kmalloc8 = KmemCache.of(root, root.kmallocFirstCache());
        GuestRun run = guest.set(X86Reg.RDI, root.toVirtual(PhysAddr.of(kmalloc8.phys().value() + CacheLayout.CURRENT)).value())
                .set(X86Reg.RSI, root.toVirtual(root.phys().plus(96)).value()) // cache table capacity
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

    /**
     * Issue 11: metadata the guest overwrote is a finding, not an exception out of the public
     * API. Before issue 10 the KernelPanic of HC_KMALLOC escaped {@code Guest.run}.
     */
    @Test
    void guestOverwritesCurrentSlab_thenKmalloc_stopsTheRunWithAKernelPanicFinding(Guest guest) {
        MmRoot root = guest.machine().memory().root();
        KmemCache kmalloc8 = KmemCache.of(root, root.kmallocFirstCache());
        GuestRun run = assertDoesNotThrow(() -> guest.set(X86Reg.R12, root.toVirtual(PhysAddr.of(kmalloc8.phys().value() + CacheLayout.CURRENT)).value())
                .run("""
                    movabs rax, 0x7ffffffff000
                    mov qword ptr [r12], rax
                    mov edi, 8
                    xor esi, esi
                    HYPERCALL HC_KMALLOC
                    mov r13, 0x5a                 # never reached: the panic stops the run
                """));

        assertEquals(StopReason.KERNEL_PANIC, run.stopReason(), run.describe());
        assertTrue(run.result().detail().contains("kernel panic in HC_KMALLOC"), run.result().detail());
        assertEquals(1, run.metadataCorruptions().size(), run.describe());
        MetadataCorruption finding = run.metadataCorruptions().getFirst();
        assertEquals("HC_KMALLOC", finding.call());
        assertTrue(finding.facts().contains("current slab P0x7ffffffff000 is not a page inside RAM"), finding.facts());
        assertTrue(run.describe().contains(finding.toString()), run.describe());
        assertTrue(run.register(X86Reg.R13) != 0x5a, "the guest ran on after the panic");
    }

    /**
     * Issue 11: the demand-paging path reads the VMA list from guest RAM too. A guest that
     * overwrites the list head and then touches a demand-paged page made the fault handler's
     * KernelPanic escape {@code Guest.run}; now it is a finding and a {@link StopReason#KERNEL_PANIC} stop.
     */
    @Test
    void guestOverwritesVmaListHead_thenTouchesDemandPagedPage_stopsWithAKernelPanicFinding(Guest guest) {
        MmRoot root = guest.machine().memory().root();
        GuestRun run = assertDoesNotThrow(() -> guest.set(X86Reg.R12, root.toVirtual(root.phys().plus(80)).value()) // VMA list head
                .run("""
                    mov edi, 8192
                    mov esi, 2                    # writable
                    HYPERCALL HC_VMA_RESERVE
                    mov rbx, rax
                    movabs rcx, 0x7ffffffff001    # not a vm_area node: outside the direct map, misaligned
                    mov qword ptr [r12], rcx
                    mov qword ptr [rbx], 1        # #PF in the reserved area: the handler walks the broken list
                    mov r13, 0x5a                 # never reached: the panic stops the run
                """));

        assertEquals(StopReason.KERNEL_PANIC, run.stopReason(), run.describe());
        assertTrue(run.result().detail().contains("kernel panic in the #PF handler"), run.result().detail());
        assertEquals(1, run.metadataCorruptions().size(), run.describe());
        MetadataCorruption finding = run.metadataCorruptions().getFirst();
        assertEquals("the #PF handler", finding.call());
        assertTrue(finding.facts().contains("vm_area node V0x7ffffffff001 is not an aligned 40-byte node"), finding.facts());
        assertTrue(run.register(X86Reg.R13) != 0x5a, "the guest ran on after the panic");
    }
}
