package dev.kemu.kernel;

import dev.kemu.kernel.mm.BuddyAllocator;
import dev.kemu.kernel.mm.FrameChecker;
import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.FreeResult;
import dev.kemu.kernel.mm.MmLayout;
import dev.kemu.kernel.mm.PhysRange;
import dev.kemu.kernel.mm.PhysicalMemory;
import dev.kemu.machine.PhysAddr;
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
import static org.junit.jupiter.api.Assertions.assertTrue;

class BuddyAllocatorTest {

    /** An operation: allocate {@code order} when {@code alloc}, else free live block number {@code pick}. */
    record Op(boolean alloc, int order, int pick) {}

    @Provide
    Arbitrary<List<Op>> operations() {
        Arbitrary<Op> op = Arbitraries.integers().between(0, 99).flatMap(kind -> Arbitraries.integers().between(0, 6)
                .flatMap(order -> Arbitraries.integers().between(0, 1000).map(pick -> new Op(kind < 60, order, pick))));
        return op.list().ofMinSize(1).ofMaxSize(300);
    }

    @Property(tries = 60)
    void randomAllocFree_keepsBlocksDisjointAlignedAndMetadataConsistent_andFreeingAllRestoresTheStart(
            @ForAll("operations") List<Op> ops) {
        try (MmFixture mm = new MmFixture(4L << 20)) {
            BuddyAllocator buddy = mm.memory.frames();
            List<String> initial = mm.frameState();
            List<long[]> live = new ArrayList<>();
            for (Op op : ops) {
                if (op.alloc()) {
                    long phys = buddy.allocate(op.order(), FrameType.ALLOCATED, op.pick() % 2 == 0).map(PhysAddr::value).orElse(-1L);
                    if (phys < 0) {
                        continue;
                    }
                    assertEquals(0, phys % (MmLayout.PAGE << op.order()), "aligned to its size");
                    for (long[] other : live) {
                        long end = phys + (MmLayout.PAGE << op.order());
                        long otherEnd = other[0] + (MmLayout.PAGE << other[1]);
                        assertTrue(end <= other[0] || otherEnd <= phys, "blocks overlap");
                    }
                    live.add(new long[]{phys, op.order()});
                } else if (!live.isEmpty()) {
                    long[] block = live.remove(op.pick() % live.size());
                    assertEquals(FreeResult.FREED, buddy.free(PhysAddr.of(block[0]), (int) block[1], FrameType.ALLOCATED));
                }
                assertEquals(List.of(), FrameChecker.check(mm.root()));
            }
            for (long[] block : live) {
                assertEquals(FreeResult.FREED, buddy.free(PhysAddr.of(block[0]), (int) block[1], FrameType.ALLOCATED));
            }
            assertEquals(initial, mm.frameState());
            assertEquals(List.of(), FrameChecker.check(mm.root()));
        }
    }

    @Test
    void allocateZeroed_clearsOldContents() {
        try (MmFixture mm = new MmFixture()) {
            long phys = mm.memory.frames().allocate(1, FrameType.ALLOCATED, false).orElseThrow().value();
            mm.ram.fill(phys, 8192, (byte) 0x5a);
            mm.memory.frames().free(PhysAddr.of(phys), 1, FrameType.ALLOCATED);
            long again = mm.memory.frames().allocate(1, FrameType.ALLOCATED, true).orElseThrow().value();
            assertEquals(phys, again, "LIFO reuse of the same block");
            for (long at = again; at < again + 8192; at += 8) {
                assertEquals(0, mm.ram.read64(at));
            }
        }
    }

    @Test
    void invalidFrees_areDetectedAndChangeNothing() {
        try (MmFixture mm = new MmFixture()) {
            BuddyAllocator buddy = mm.memory.frames();
            long block = buddy.allocate(2, FrameType.ALLOCATED, false).orElseThrow().value();
            long freed = buddy.allocate(0, FrameType.ALLOCATED, false).orElseThrow().value();
            assertEquals(FreeResult.FREED, buddy.free(PhysAddr.of(freed), 0, FrameType.ALLOCATED));
            byte[] before = mm.snapshot();
            assertEquals(FreeResult.DOUBLE_FREE, buddy.free(PhysAddr.of(freed), 0, FrameType.ALLOCATED));
            assertEquals(FreeResult.NOT_BLOCK_START, buddy.free(PhysAddr.of(block + 4096), 0, FrameType.ALLOCATED));
            assertEquals(FreeResult.WRONG_ORDER, buddy.free(PhysAddr.of(block), 1, FrameType.ALLOCATED));
            assertEquals(FreeResult.WRONG_TYPE, buddy.free(PhysAddr.of(block), 2, FrameType.SLAB));
            assertEquals(FreeResult.NOT_PAGE_ALIGNED, buddy.free(PhysAddr.of(block + 8), 2, FrameType.ALLOCATED));
            assertEquals(FreeResult.OUTSIDE_RAM, buddy.free(PhysAddr.of(MmFixture.RAM), 0, FrameType.ALLOCATED));
            assertEquals(FreeResult.NOT_ALLOCATED, buddy.free(PhysAddr.of(MmFixture.ROOT), 0, FrameType.ALLOCATED));
            assertEquals(FreeResult.NOT_ALLOCATED, buddy.free(PhysAddr.of(0), 0, FrameType.ALLOCATED));
            assertTrue(mm.unchangedSince(before), "rejected frees wrote to guest RAM");
        }
    }

    @Test
    void outOfMemory_returnsEmpty_andEverythingWorksAfterFreeing() {
        try (MmFixture mm = new MmFixture(2L << 20)) {
            BuddyAllocator buddy = mm.memory.frames();
            List<String> initial = mm.frameState();
            long free = mm.root().freeFrames();
            List<Long> all = new ArrayList<>();
            for (Optional<PhysAddr> phys; (phys = buddy.allocate(0, FrameType.ALLOCATED, false)).isPresent(); ) {
                all.add(phys.get().value());
            }
            assertEquals(free, all.size());
            assertEquals(Optional.empty(), buddy.allocate(0, FrameType.ALLOCATED, false));
            all.forEach(p -> assertEquals(FreeResult.FREED, buddy.free(PhysAddr.of(p), 0, FrameType.ALLOCATED)));
            assertEquals(initial, mm.frameState());
            assertTrue(buddy.allocate(3, FrameType.ALLOCATED, false).isPresent());
        }
    }

    @Test
    void physicalMap_showsRangesWithTheirTypes() {
        try (MmFixture mm = new MmFixture()) {
            List<PhysRange> map = PhysicalMemory.map(mm.root());
            assertEquals(new PhysRange(PhysAddr.of(0), PhysAddr.of(0x1000), FrameType.RESERVED), map.get(0));
            // The PML4, followed by the direct map's PDPT (the lowest free frame at set-up).
            assertEquals(PhysAddr.of(0x1000), map.get(1).start());
            assertEquals(FrameType.PAGE_TABLE, map.get(1).type());
            assertEquals(3, map.stream().filter(r -> r.type() == FrameType.PAGE_TABLE).mapToLong(PhysRange::frames).sum(),
                    "PML4, direct-map PDPT and PD");
            assertTrue(map.contains(new PhysRange(PhysAddr.of(MmFixture.ROOT), PhysAddr.of(MmFixture.ROOT + 0x1000 + 0x10000 + 0x2000),
                    FrameType.MM_METADATA)), map.toString());
            assertEquals(PhysAddr.of(MmFixture.RAM), map.getLast().end());
            long sum = map.stream().mapToLong(PhysRange::frames).sum();
            assertEquals(MmFixture.RAM / 4096, sum);
            for (int i = 1; i < map.size(); i++) {
                assertEquals(map.get(i - 1).end(), map.get(i).start());
            }
        }
    }
}
