package dev.kemu.kernel;

import dev.kemu.kernel.mm.FreeResult;
import dev.kemu.kernel.mm.KernelPanic;
import dev.kemu.kernel.mm.MmLayout;
import dev.kemu.kernel.mm.VirtualAreas;
import dev.kemu.kernel.mm.VmaKind;
import dev.kemu.kernel.slab.CacheLayout;
import dev.kemu.kernel.slab.KmemCache;
import dev.kemu.kernel.slab.SlabHeader;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.VirtAddr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Metadata the guest overwrote (it is all in guest RAM, reachable through the direct map):
 * walks stop, checkers and accessors report findings with the address and what was expected,
 * and services stop with a kernel panic stating the facts, never with a Java indexing error
 * or an endless loop (issue 11, defects 6 and 8).
 */
class CorruptedMetadataTest {
    private static final int NODE_NEXT = 32;

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void vmaListCycle_allocateAndFind_stopWithAPanicNamingTheLoop() {
        try (MmFixture mm = new MmFixture()) {
            VirtualAreas areas = mm.memory.areas();
            long start = areas.allocate(4096, VmaKind.DEMAND_PAGED, 0).orElseThrow().value();
            long node = mm.root().vmaListHead().value();
            mm.ram.write64(mm.root().toPhysical(VirtAddr.of(node)).value() + NODE_NEXT, node); // the node is its own successor

            KernelPanic insert = assertThrows(KernelPanic.class, () -> areas.allocate(4096, VmaKind.DEMAND_PAGED, 0));
            assertTrue(insert.getMessage().contains("the VMA list loops"), insert.getMessage());
            KernelPanic find = assertThrows(KernelPanic.class, () -> areas.find(VirtAddr.of(start + 8192)));
            assertTrue(find.getMessage().contains(String.format("at node V0x%x", node)), find.getMessage());
        }
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void vmaEndOverwritten_releaseAndVfreeStopWithAPanic_insteadOfLoopingOverItsPages() {
        try (MmFixture mm = new MmFixture()) {
            long demand = mm.memory.demandPaging().reserve(4096, 0).orElseThrow().value();
            long node = mm.root().vmaListHead().value();
            mm.ram.write64(mm.root().toPhysical(VirtAddr.of(node)).value() + 8, demand + (1L << 40)); // vm_area end
            KernelPanic release = assertThrows(KernelPanic.class, () -> mm.memory.demandPaging().release(VirtAddr.of(demand)));
            assertTrue(release.getMessage().contains(String.format("VMA [V0x%x, V0x%x) is not a page-aligned range inside"
                    + " the vmalloc range", demand, demand + (1L << 40))), release.getMessage());
        }
        try (MmFixture mm = new MmFixture()) {
            long va = mm.memory.vmalloc().allocate(4096).orElseThrow().value();
            for (long at = mm.root().vmaListHead().value(); at != 0; at = mm.ram.read64(mm.root().toPhysical(VirtAddr.of(at)).value() + NODE_NEXT)) {
                if (mm.ram.read64(mm.root().toPhysical(VirtAddr.of(at)).value()) == va) {
                    mm.ram.write64(mm.root().toPhysical(VirtAddr.of(at)).value() + 8, va + (1L << 40) + 1); // past the range, unaligned
                }
            }
            assertThrows(KernelPanic.class, () -> mm.memory.vmalloc().free(VirtAddr.of(va)));
        }
    }

    @Test
    void slabHeaderWithCacheId65540_isAFinding_andKfreeRefusesInsteadOfIndexing() {
        try (MmFixture mm = new MmFixture()) {
            long object = mm.memory.kmalloc().allocate(20, false).orElseThrow().value();
            long slab = mm.root().toPhysical(VirtAddr.of(object)).value() & -MmLayout.PAGE;
            new SlabHeader(mm.ram).setCacheId(slab, 65540);

            List<String> problems = assertDoesNotThrow(() -> mm.memory.check());
            assertTrue(problems.stream().anyMatch(p -> p.contains(String.format("slab P0x%x", slab))
                    && p.contains("cache id 65540")), problems.toString());
            assertEquals(FreeResult.WRONG_CACHE, assertDoesNotThrow(() -> mm.memory.kmalloc().free(VirtAddr.of(object))));
            assertEquals(OptionalLong.empty(), assertDoesNotThrow(() -> mm.memory.kmalloc().usableSize(VirtAddr.of(object))));
        }
    }

    @Test
    void unknownFrameTypeByte_isAFindingWithItsAddress() {
        try (MmFixture mm = new MmFixture()) {
            long entry = mm.root().frameTable().value() + 0x300 * MmLayout.FRAME_ENTRY;
            mm.ram.write8(entry, 200);

            List<String> problems = assertDoesNotThrow(() -> mm.memory.check());
            assertTrue(problems.contains(String.format("frame 0x300: type byte 200 at P0x%x is no frame type (0..12"
                    + " expected)", entry)), problems.toString());
        }
    }

    @Test
    void pageTableEntryPointingOutsideRam_isAFinding() {
        try (MmFixture mm = new MmFixture()) {
            mm.ram.write64(MmFixture.PML4 + 5 * 8, (MmFixture.RAM * 4) | PageTableEntry.PRESENT | PageTableEntry.WRITABLE);

            List<String> problems = assertDoesNotThrow(() -> mm.memory.check());
            assertTrue(problems.stream().anyMatch(p -> p.contains(String.format("points at table P0x%x, outside RAM",
                    MmFixture.RAM * 4))), problems.toString());
        }
    }

    @Test
    void currentSlabPointerOutsideRam_slabInfoStillAnswers_andCheckNamesIt() {
        try (MmFixture mm = new MmFixture()) {
            mm.memory.kmalloc().allocate(8, false);
            KmemCache kmalloc8 = KmemCache.of(mm.root(), mm.root().kmallocFirstCache());
            mm.ram.write64(kmalloc8.phys().value() + CacheLayout.CURRENT, 0x7fff_ffff_f000L);

            assertEquals(mm.memory.slabs().info().size(), assertDoesNotThrow(() -> mm.memory.slabs().info()).size());
            List<String> problems = assertDoesNotThrow(() -> mm.memory.check());
            assertTrue(problems.contains("cache kmalloc-8 current slab P0x7ffffffff000: not the start of a slab inside RAM"),
                    problems.toString());
            KernelPanic panic = assertThrows(KernelPanic.class, () -> mm.memory.kmalloc().allocate(8, false));
            assertTrue(panic.getMessage().contains("current slab P0x7ffffffff000 is not a page inside RAM"),
                    panic.getMessage());
        }
    }

    @Test
    void cacheCapacityBeyondRam_slabInfoAndCheckerStayInsideRam() {
        try (MmFixture mm = new MmFixture()) {
            int before = mm.memory.slabs().info().size();
            mm.ram.write32(mm.root().phys().value() + 96, 1_000_000_000); // cache table capacity

            assertEquals(before, assertDoesNotThrow(() -> mm.memory.slabs().info()).size());
            assertDoesNotThrow(() -> mm.memory.check());
            assertFalse(assertDoesNotThrow(() -> mm.memory.slabs().isActive(999_999)), "a cache beyond the end of RAM");
        }
    }

    @Test
    void freelistPointerOutsideTheSlab_allocatePanicsWithTheFacts() {
        try (MmFixture mm = new MmFixture()) {
            mm.memory.kmalloc().allocate(64, false);
            KmemCache kmalloc64 = KmemCache.of(mm.root(), mm.root().kmallocFirstCache() + 3);
            new SlabHeader(mm.ram).setFreelist(kmalloc64.current(), 0x1234);

            KernelPanic panic = assertThrows(KernelPanic.class, () -> mm.memory.kmalloc().allocate(64, false));
            assertTrue(panic.getMessage().contains(String.format("freelist of slab P0x%x holds V0x1234, not an object",
                    kmalloc64.current())), panic.getMessage());
            assertTrue(assertDoesNotThrow(() -> mm.memory.check()).stream().anyMatch(p -> p.contains("V0x1234")));
        }
    }

    @Test
    void constructorIdBeyondTheTable_growPanicsInsteadOfIndexing() {
        try (MmFixture mm = new MmFixture()) {
            int id = mm.memory.slabs().create("with-ctor", 32, 8, (ram, phys, virt, size) -> {}).orElseThrow();
            mm.ram.write32(KmemCache.of(mm.root(), id).phys().value() + CacheLayout.CTOR, 77);

            KernelPanic panic = assertThrows(KernelPanic.class, () -> mm.memory.slabs().allocate(id, false));
            assertTrue(panic.getMessage().contains("names constructor 77, only 0..1 exist"), panic.getMessage());
        }
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void vmaListLoops_vmasAnswersWithoutThrowing_andCheckReportsTheLoopAtItsNode() {
        try (MmFixture mm = new MmFixture()) {
            VirtualAreas areas = mm.memory.areas();
            long first = areas.allocate(4096, VmaKind.DEMAND_PAGED, 0).orElseThrow().value();
            areas.allocate(4096, VmaKind.DEMAND_PAGED, 0).orElseThrow();
            long head = mm.root().vmaListHead().value();
            long second = mm.ram.read64(mm.root().toPhysical(VirtAddr.of(head)).value() + NODE_NEXT);
            mm.ram.write64(mm.root().toPhysical(VirtAddr.of(second)).value() + NODE_NEXT, head); // second -> first -> second ...

            List<dev.kemu.kernel.mm.Vma> vmas = assertDoesNotThrow(areas::vmas);
            assertEquals(2, vmas.size(), vmas.toString());
            assertEquals(first, vmas.getFirst().start().value());
            List<String> problems = assertDoesNotThrow(() -> mm.memory.check());
            assertTrue(problems.contains(String.format("VMA list: node V0x%x comes back after 2 nodes (the list loops)",
                    head)), problems.toString());
        }
    }

    @Test
    void vmaNodeWithGarbage_vmasStopsBeforeIt_andCheckNamesNodeAndExpectation() {
        try (MmFixture mm = new MmFixture()) {
            VirtualAreas areas = mm.memory.areas();
            areas.allocate(4096, VmaKind.DEMAND_PAGED, 0).orElseThrow();
            long head = mm.root().vmaListHead().value();
            mm.ram.write64(mm.root().toPhysical(VirtAddr.of(head)).value() + NODE_NEXT, 0x1234_5678L); // not a direct-map address
            long kindAt = mm.root().toPhysical(VirtAddr.of(head)).value() + 24;

            assertEquals(1, assertDoesNotThrow(areas::vmas).size());
            assertTrue(mm.memory.check().contains(String.format("VMA list: node V0x%x after node V0x%x is not an aligned"
                    + " 40-byte node inside the direct map of RAM", 0x1234_5678L, head)), mm.memory.check().toString());

            mm.ram.write64(mm.root().toPhysical(VirtAddr.of(head)).value() + NODE_NEXT, 0);
            mm.ram.write32(kindAt, 77);
            assertEquals(List.of(), assertDoesNotThrow(areas::vmas));
            assertTrue(mm.memory.check().contains(String.format("VMA list: node V0x%x holds kind 77, expected 0..%d",
                    head, VmaKind.values().length - 1)), mm.memory.check().toString());
        }
    }
}
