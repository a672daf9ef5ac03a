package dev.kemu.kernel;

import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.Gfp;
import dev.kemu.kernel.mm.PageAllocator;
import dev.kemu.kernel.mm.Zone;
import dev.kemu.machine.PhysAddr;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Zone choice and fallback of get_free_pages against a reference model of the free frames: a
 * block always lies in a zone the flags allow, it comes from the first zone of the zonelist that
 * has an aligned free run of its size (the buddy allocator coalesces fully, so such a run is
 * always inside one free block), and a refusal means the reserve or every allowed zone said no.
 * 64 MiB of RAM has DMA and DMA32; NORMAL needs more than 4 GiB and is covered by the zonelist.
 */
class ZoneSelectionTest {
    private static final long RAM = 64L << 20;
    private static final long[] FLAGS = {0, Gfp.DMA, Gfp.DMA32, Gfp.ATOMIC, Gfp.DMA | Gfp.ATOMIC, Gfp.ZERO};

    @Property(tries = 40)
    void randomRequests_takeTheHighestZoneWithABlock_andRespectTheReserve(
            @ForAll @Size(min = 1, max = 80) List<@IntRange(min = 0, max = 1_000_000) Integer> steps) {
        try (MmFixture mm = new MmFixture(RAM)) {
            PageAllocator pages = mm.memory.pages();
            FreeFrameModel model = new FreeFrameModel(mm);
            for (int step : steps) {
                if (step % 4 == 3 && model.holdsAny()) {
                    model.freeHeld(step / 4);
                    continue;
                }
                int order = (step / 4) % 11;
                Gfp gfp = new Gfp(FLAGS[(step / 44) % FLAGS.length]);
                Optional<Zone> expected = gfp.zonelist().stream()
                        .filter(z -> model.hasRun(z.startPfn(), z.endPfn(), order)).findFirst();
                boolean reserveAllows = model.reserveAllows(gfp, order);

                Optional<PhysAddr> got = pages.getFreePages(order, FrameType.ALLOCATED, gfp);

                String what = "order " + order + " flags 0x" + Long.toHexString(gfp.bits());
                if (!reserveAllows || expected.isEmpty()) {
                    assertEquals(Optional.empty(), got, what);
                    continue;
                }
                assertTrue(got.isPresent(), what + ": a block was there");
                assertEquals(expected.get(), Zone.of(got.get()), what);
                model.take(got.get(), order, what);
            }
            model.assertMatchesAllocator();
        }
    }

    @Test
    void gfpKernel_keepsTheReserve_whichGfpAtomicMayHalfUse() {
        try (MmFixture mm = new MmFixture(RAM)) {
            PageAllocator pages = mm.memory.pages();
            while (pages.getFreePages(0, FrameType.ALLOCATED, Gfp.KERNEL).isPresent()) {
                // drain what GFP_KERNEL may have
            }
            assertEquals(pages.reserve(), mm.root().freeFrames(), "GFP_KERNEL stops at the reserve");
            while (pages.getFreePages(0, FrameType.ALLOCATED, new Gfp(Gfp.ATOMIC)).isPresent()) {
                // drain what GFP_ATOMIC may have
            }
            assertEquals(pages.reserve() / 2, mm.root().freeFrames(), "GFP_ATOMIC may use half of it");
        }
    }

    @Test
    void gfpDma_comesFromBelow16MiB_andPlainRequestsPreferDma32() {
        try (MmFixture mm = new MmFixture(RAM)) {
            PageAllocator pages = mm.memory.pages();
            assertEquals(Zone.DMA, Zone.of(pages.getFreePages(2, FrameType.ALLOCATED, new Gfp(Gfp.DMA)).orElseThrow()));
            assertEquals(Zone.DMA32, Zone.of(pages.getFreePages(2, FrameType.ALLOCATED, Gfp.KERNEL).orElseThrow()));
            assertEquals(Zone.DMA32, Zone.of(pages.getFreePages(2, FrameType.ALLOCATED, new Gfp(Gfp.DMA32)).orElseThrow()));
            assertFalse(new Gfp(Gfp.DMA | Gfp.DMA32).valid());
            assertFalse(new Gfp(0x100).valid());
            assertEquals(List.of(Zone.NORMAL, Zone.DMA32, Zone.DMA), Gfp.KERNEL.zonelist());
        }
    }

    @Test
    void gfpBits_areTheOnesTheGuestAssemblesWith() {
        assertEquals(GuestAbi.ALLOC_ZERO, Gfp.ZERO);
        assertEquals(GuestAbi.GFP_DMA, Gfp.DMA);
        assertEquals(GuestAbi.GFP_DMA32, Gfp.DMA32);
        assertEquals(GuestAbi.GFP_ATOMIC, Gfp.ATOMIC);
        assertEquals(GuestAbi.GFP_THISNODE, Gfp.THISNODE);
    }
}
