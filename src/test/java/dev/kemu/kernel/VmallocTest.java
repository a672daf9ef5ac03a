package dev.kemu.kernel;

import dev.kemu.kernel.mm.FreeResult;
import dev.kemu.kernel.mm.MmLayout;
import dev.kemu.kernel.mm.Vma;
import dev.kemu.kernel.mm.VmaKind;
import dev.kemu.kernel.mm.Vmalloc;
import dev.kemu.machine.VirtAddr;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VmallocTest {
    record Op(boolean alloc, int size, int pick) {}

    @Provide
    Arbitrary<List<Op>> operations() {
        return Arbitraries.integers().between(0, 9).flatMap(kind -> Arbitraries.integers().between(1, 40_000)
                .flatMap(size -> Arbitraries.integers().between(0, 1000).map(pick -> new Op(kind < 6, size, pick))))
                .list().ofMinSize(1).ofMaxSize(120);
    }

    @Property(tries = 40)
    void randomVmallocVfree_areasDisjointWithGuards_pagesMapped_andFreeingAllMergesBackToOneArea(
            @ForAll("operations") List<Op> ops) {
        try (MmFixture mm = new MmFixture()) {
            Vmalloc vmalloc = mm.memory.vmalloc();
            List<long[]> live = new ArrayList<>();
            for (Op op : ops) {
                if (op.alloc()) {
                    long va = vmalloc.allocate(op.size()).map(VirtAddr::value).orElse(0L);
                    assertNotEquals(0, va);
                    long pages = (op.size() + 4095) / 4096;
                    for (long p = 0; p < pages; p++) {
                        assertTrue(mm.memory.pageTables().translate(VirtAddr.of(va + p * 4096)).isPresent());
                    }
                    assertTrue(mm.memory.pageTables().translate(VirtAddr.of(va + pages * 4096)).isEmpty(), "guard page unmapped");
                    Vma guard = mm.memory.areas().find(VirtAddr.of(va + pages * 4096)).orElseThrow();
                    assertEquals(VmaKind.GUARD, guard.kind());
                    live.add(new long[]{va, pages});
                } else if (!live.isEmpty()) {
                    long[] area = live.remove(op.pick() % live.size());
                    assertEquals(FreeResult.FREED, vmalloc.free(VirtAddr.of(area[0])));
                }
                List<Vma> vmas = mm.memory.areas().vmas();
                assertEquals(live.size() * 2, vmas.size());
                for (int i = 1; i < vmas.size(); i++) {
                    assertTrue(vmas.get(i - 1).end().compareTo(vmas.get(i).start()) <= 0, "VMAs overlap");
                }
            }
            live.forEach(a -> assertEquals(FreeResult.FREED, vmalloc.free(VirtAddr.of(a[0]))));
            assertEquals(List.of(new Vma(VirtAddr.of(MmLayout.VMALLOC_START), VirtAddr.of(MmLayout.VMALLOC_END), 0, VmaKind.FREE)),
                    mm.memory.areas().freeAreas());
            assertEquals(List.of(), mm.memory.areas().vmas());
            assertEquals(List.of(), mm.memory.check());
        }
    }

    @Test
    void vfree_ofGuardOrInteriorOrUnknownAddress_isRejected() {
        try (MmFixture mm = new MmFixture()) {
            Vmalloc vmalloc = mm.memory.vmalloc();
            long va = vmalloc.allocate(8192).orElseThrow().value();
            byte[] before = mm.snapshot();
            assertEquals(FreeResult.NOT_BLOCK_START, vmalloc.free(VirtAddr.of(va + 4096)));
            assertEquals(FreeResult.NOT_BLOCK_START, vmalloc.free(VirtAddr.of(va + 8192)));
            assertEquals(FreeResult.NOT_ALLOCATED, vmalloc.free(VirtAddr.of(MmLayout.VMALLOC_END - 4096)));
            assertTrue(mm.unchangedSince(before));
            assertEquals(FreeResult.FREED, vmalloc.free(VirtAddr.of(va)));
            assertEquals(FreeResult.NOT_ALLOCATED, vmalloc.free(VirtAddr.of(va)));
        }
    }

    @Test
    void vmalloc_largerThanFreeMemory_failsCleanlyAndRollsBack() {
        try (MmFixture mm = new MmFixture(4L << 20)) {
            List<String> before = mm.frameState();
            assertEquals(Optional.empty(), mm.memory.vmalloc().allocate(8L << 20));
            assertEquals(List.of(), mm.memory.areas().vmas());
            assertEquals(List.of(), mm.memory.check());
            assertEquals(before, mm.frameState());
        }
    }
}
