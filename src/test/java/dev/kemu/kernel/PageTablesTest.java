package dev.kemu.kernel;

import dev.kemu.kernel.mm.FrameChecker;
import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.MapResult;
import dev.kemu.kernel.mm.PageSize;
import dev.kemu.kernel.mm.PageTableChecker;
import dev.kemu.kernel.mm.PageTables;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PageTablesTest {
    /** Test window: two PML4 slots apart so that whole table chains come and go. */
    private static final long[] BASES = {0x0000_0000_4000_0000L, 0x0000_7f80_0000_0000L, 0xffff_c900_0000_0000L};
    private static final long FLAGS = PageTableEntry.WRITABLE | PageTableEntry.NO_EXECUTE;

    record Op(boolean map, boolean huge, int base, int slot, int frame) {}

    @Provide
    Arbitrary<List<Op>> operations() {
        return Arbitraries.integers().between(0, 9).flatMap(kind -> Arbitraries.integers().between(0, 2)
                        .flatMap(base -> Arbitraries.integers().between(0, 15)
                                .flatMap(slot -> Arbitraries.integers().between(0, 3000)
                                        .map(frame -> new Op(kind < 6, kind == 0 || kind == 9, base, slot, frame)))))
                .list().ofMinSize(1).ofMaxSize(200);
    }

    private static long va(Op op) {
        return BASES[op.base()] + (op.huge() ? op.slot() * (2L << 20) + (64L << 20) : op.slot() * 4096L);
    }

    @Property(tries = 60)
    void randomMapUnmap_tablesMatchTheModel_andUnmappingAllFreesEveryTable(@ForAll("operations") List<Op> ops) {
        try (MmFixture mm = new MmFixture()) {
            PageTables tables = mm.memory.pageTables();
            List<String> initial = mm.frameState();
            TreeMap<VirtAddr, PageTableChecker.Leaf> before = PageTableChecker.leaves(mm.ram, PhysAddr.of(MmFixture.PML4));
            Map<Long, long[]> model = new HashMap<>(); // va -> {pa, size}
            for (Op op : ops) {
                PageSize size = op.huge() ? PageSize.SIZE_2M : PageSize.SIZE_4K;
                long va = va(op);
                if (op.map()) {
                    long pa = op.huge() ? (op.frame() % 8) * (2L << 20) : op.frame() * 4096L;
                    MapResult result = tables.map(VirtAddr.of(va), PhysAddr.of(pa), size, FLAGS);
                    boolean expectedFree = model.keySet().stream().noneMatch(v -> overlaps(v, model.get(v)[1], va, size.bytes()));
                    assertEquals(expectedFree ? MapResult.OK : MapResult.ALREADY_MAPPED, result);
                    if (result == MapResult.OK) {
                        model.put(va, new long[]{pa, size.bytes()});
                    }
                } else {
                    Optional<PhysAddr> pa = tables.unmap(VirtAddr.of(va), size);
                    long[] expected = model.get(va);
                    if (expected != null && expected[1] == size.bytes()) {
                        assertEquals(expected[0], pa.orElseThrow().value());
                        model.remove(va);
                    } else {
                        assertTrue(pa.isEmpty());
                    }
                }
                TreeMap<VirtAddr, PageTableChecker.Leaf> leaves = PageTableChecker.leaves(mm.ram, PhysAddr.of(MmFixture.PML4));
                before.keySet().forEach(leaves::remove);
                assertEquals(model.size(), leaves.size());
                for (var entry : model.entrySet()) {
                    PageTableChecker.Leaf leaf = leaves.get(VirtAddr.of(entry.getKey()));
                    assertEquals(PhysAddr.of(entry.getValue()[0]), leaf.pa());
                    assertEquals(entry.getValue()[1], leaf.size());
                    assertEquals(entry.getValue()[0] + 0x123, tables.translate(VirtAddr.of(entry.getKey() + 0x123)).orElseThrow().value());
                }
                assertEquals(List.of(), PageTableChecker.checkCounts(mm.root()));
            }
            for (var entry : model.entrySet()) {
                PageSize size = entry.getValue()[1] == 4096 ? PageSize.SIZE_4K : PageSize.SIZE_2M;
                assertTrue(tables.unmap(VirtAddr.of(entry.getKey()), size).isPresent());
            }
            assertEquals(initial, mm.frameState(), "all intermediate tables were freed");
            assertEquals(List.of(), FrameChecker.check(mm.root()));
        }
    }

    private static boolean overlaps(long a, long aSize, long b, long bSize) {
        return Long.compareUnsigned(a, b + bSize) < 0 && Long.compareUnsigned(b, a + aSize) < 0;
    }

    @Test
    void map_rejectsBadInputWithoutChangingAnything() {
        try (MmFixture mm = new MmFixture()) {
            PageTables tables = mm.memory.pageTables();
            assertEquals(MapResult.OK, tables.map(VirtAddr.of(0x40000000L), PhysAddr.of(0x5000), PageSize.SIZE_4K, FLAGS));
            byte[] before = mm.snapshot();
            assertEquals(MapResult.NOT_CANONICAL, tables.map(VirtAddr.of(0x0000_8000_0000_0000L), PhysAddr.of(0x5000), PageSize.SIZE_4K, FLAGS));
            assertEquals(MapResult.MISALIGNED, tables.map(VirtAddr.of(0x40001001L), PhysAddr.of(0x5000), PageSize.SIZE_4K, FLAGS));
            assertEquals(MapResult.MISALIGNED, tables.map(VirtAddr.of(0x40200000L), PhysAddr.of(0x5000), PageSize.SIZE_2M, FLAGS));
            assertEquals(MapResult.OUTSIDE_RAM, tables.map(VirtAddr.of(0x40001000L), PhysAddr.of(MmFixture.RAM), PageSize.SIZE_4K, FLAGS));
            assertEquals(MapResult.ALREADY_MAPPED, tables.map(VirtAddr.of(0x40000000L), PhysAddr.of(0x6000), PageSize.SIZE_4K, FLAGS));
            assertEquals(MapResult.ALREADY_MAPPED, tables.map(VirtAddr.of(0x40000000L), PhysAddr.of(0x200000), PageSize.SIZE_2M, FLAGS));
            assertTrue(tables.unmap(VirtAddr.of(0x40001000L), PageSize.SIZE_4K).isEmpty());
            assertTrue(mm.unchangedSince(before));
        }
    }

    @Test
    void protect_changesLeafFlags_andEveryEditFlushesTheTlb() {
        try (MmFixture mm = new MmFixture()) {
            PageTables tables = mm.memory.pageTables();
            int flushes = mm.tlbFlushes;
            tables.map(VirtAddr.of(0x40000000L), PhysAddr.of(0x5000), PageSize.SIZE_4K, PageTableEntry.WRITABLE);
            assertEquals(MapResult.OK, tables.protect(VirtAddr.of(0x40000000L), PageTableEntry.USER | PageTableEntry.NO_EXECUTE));
            var walk = tables.walk(VirtAddr.of(0x40000000L));
            assertTrue(walk.user());
            assertTrue(!walk.writable() && !walk.executable());
            tables.unmap(VirtAddr.of(0x40000000L), PageSize.SIZE_4K);
            assertEquals(flushes + 3, mm.tlbFlushes);
            assertEquals(MapResult.NOT_MAPPED, tables.protect(VirtAddr.of(0x40000000L), 0));
        }
    }

    @Test
    void outOfMemory_forIntermediateTables_isReportedAndChangesNothing() {
        try (MmFixture mm = new MmFixture(2L << 20)) {
            while (mm.memory.frames().allocate(0, FrameType.ALLOCATED, false).isPresent()) {
                // exhaust
            }
            byte[] before = mm.snapshot();
            assertEquals(MapResult.OUT_OF_MEMORY, mm.memory.pageTables().map(VirtAddr.of(0x40000000L), PhysAddr.of(0x5000), PageSize.SIZE_4K, FLAGS));
            assertTrue(mm.unchangedSince(before));
        }
    }

    @Test
    void directMap_coversAllRamWith2MiBPages() {
        try (MmFixture mm = new MmFixture()) {
            for (long pa = 0; pa < MmFixture.RAM; pa += 0x1000 * 97) {
                assertEquals(pa, mm.memory.pageTables().translate(mm.root().toVirtual(PhysAddr.of(pa))).orElseThrow().value());
            }
        }
    }
}
