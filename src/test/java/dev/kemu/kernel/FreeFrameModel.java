package dev.kemu.kernel;

import dev.kemu.kernel.mm.FrameTable;
import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.FreeResult;
import dev.kemu.kernel.mm.Gfp;
import dev.kemu.machine.PhysAddr;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reference model the page-allocator property tests check against: the free frames of an {@link MmFixture}
 * as a bit set, and the blocks a test holds. The buddy allocator coalesces fully, so an aligned free run of a
 * block's size in the model is always inside one free block of the allocator.
 */
final class FreeFrameModel {
    private final MmFixture mm;
    private final BitSet free = new BitSet();
    private final List<long[]> held = new ArrayList<>(); // {phys, order}
    final long frames;

    FreeFrameModel(MmFixture mm) {
        this.mm = mm;
        FrameTable table = FrameTable.of(mm.root());
        frames = table.frames();
        for (long pfn = 0; pfn < frames; pfn++) {
            if (table.type(pfn) == FrameType.FREE) {
                free.set((int) pfn);
            }
        }
    }

    boolean holdsAny() {
        return !held.isEmpty();
    }

    /** Frees held block number {@code pick} (modulo how many there are) in the allocator and the model. */
    void freeHeld(int pick) {
        long[] block = held.remove(pick % held.size());
        assertEquals(FreeResult.FREED, mm.memory.frames().free(PhysAddr.of(block[0]), (int) block[1], FrameType.ALLOCATED));
        free.set((int) (block[0] / 4096), (int) (block[0] / 4096 + (1L << block[1])));
    }

    /** Whether taking 2^order frames leaves what {@code gfp} must keep of the allocator's reserve. */
    boolean reserveAllows(Gfp gfp, int order) {
        long reserve = mm.memory.pages().reserve();
        long keep = gfp.atomic() ? reserve / 2 : reserve;
        return free.cardinality() - (1L << order) >= keep;
    }

    /** An aligned run of 2^order free frames in [low, high), cut to the frames there are. */
    boolean hasRun(long low, long high, int order) {
        long size = 1L << order, end = Math.min(high, frames);
        for (long pfn = (low + size - 1) & -size; pfn + size <= end; pfn += size) {
            if (free.nextClearBit((int) pfn) >= pfn + size) {
                return true;
            }
        }
        return false;
    }

    /** Checks the block the allocator gave is aligned and was free, then takes it out of the model and holds it. */
    void take(PhysAddr block, int order, String what) {
        long pfn = block.value() / 4096;
        assertEquals(0, pfn % (1L << order), what + ": aligned");
        for (long f = pfn; f < pfn + (1L << order); f++) {
            assertTrue(free.get((int) f), what + ": frame " + f + " was free");
        }
        free.clear((int) pfn, (int) (pfn + (1L << order)));
        held.add(new long[]{block.value(), order});
    }

    /** The allocator's free count is the model's and its own consistency check finds nothing. */
    void assertMatchesAllocator() {
        assertEquals(free.cardinality(), mm.root().freeFrames());
        assertEquals(List.of(), mm.memory.check());
    }
}
