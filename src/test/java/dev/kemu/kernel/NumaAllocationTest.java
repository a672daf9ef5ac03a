package dev.kemu.kernel;

import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.Gfp;
import dev.kemu.kernel.mm.NumaNodes;
import dev.kemu.kernel.mm.NumaTopology;
import dev.kemu.kernel.mm.PageAllocator;
import dev.kemu.kernel.mm.Zone;
import dev.kemu.machine.PhysAddr;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Node choice and fallback of alloc_pages_node against a reference model: the free frames as a bit set and
 * Linux's zonelist for equal distances written out here (the preferred node, then the higher nodes ascending,
 * then the lower ones; in each node the zones the flags allow, highest first). A block must come from the first
 * (node, zone) of that list holding an aligned free run of its size, never from another node under
 * __GFP_THISNODE, and a refusal means the reserve or every allowed (node, zone) said no. Nodes of 16 MiB make
 * node 0 all DMA and the others DMA32, so zone and node fallback cross.
 */
class NumaAllocationTest {
    private static final long NODE_FRAMES = (16L << 20) / 4096;
    private static final long[] FLAGS = {0, Gfp.DMA, Gfp.DMA32, Gfp.ATOMIC, Gfp.THISNODE, Gfp.THISNODE | Gfp.DMA,
            Gfp.THISNODE | Gfp.ATOMIC, Gfp.ZERO | Gfp.THISNODE};

    /** The reference zonelist: (node, zone) pairs in the order Linux's node-ordered zonelist tries them. */
    static List<long[]> referenceZonelist(int preferred, int nodes, Gfp gfp) {
        List<Integer> order = new ArrayList<>();
        order.add(preferred);
        if (!gfp.thisNode()) {
            for (int distance = 1; distance < nodes; distance++) {
                order.add((preferred + distance) % nodes); // equal distances: next higher first, wrapping
            }
        }
        List<long[]> pairs = new ArrayList<>();
        for (int node : order) {
            for (Zone zone : gfp.zonelist()) {
                pairs.add(new long[]{node, zone.ordinal()});
            }
        }
        return pairs;
    }

    @Property(tries = 12)
    void randomRequests_comeFromTheFirstNodeAndZoneWithABlock(
            @ForAll @IntRange(min = 2, max = 4) int nodes,
            @ForAll @Size(min = 1, max = 120) List<@IntRange(min = 0, max = 1_000_000) Integer> steps) {
        long ram = nodes * NODE_FRAMES * 4096;
        try (MmFixture mm = new MmFixture(ram, NumaTopology.equalNodes(nodes, NODE_FRAMES, 4))) {
            PageAllocator pages = mm.memory.pages();
            FreeFrameModel model = new FreeFrameModel(mm);
            for (int step : steps) {
                if (step % 5 == 4 && model.holdsAny()) {
                    model.freeHeld(step / 5);
                    continue;
                }
                int order = (step / 5) % 11;
                int node = (step / 55) % nodes;
                Gfp gfp = new Gfp(FLAGS[(step / 55 / nodes) % FLAGS.length]);
                Optional<long[]> expected = referenceZonelist(node, nodes, gfp).stream()
                        .filter(p -> hasRun(model, (int) p[0], Zone.values()[(int) p[1]], order)).findFirst();
                boolean reserveAllows = model.reserveAllows(gfp, order);

                Optional<PhysAddr> got = pages.allocPagesNode(node, order, FrameType.ALLOCATED, gfp);

                String what = "node " + node + " order " + order + " flags 0x" + Long.toHexString(gfp.bits());
                if (!reserveAllows || expected.isEmpty()) {
                    assertEquals(Optional.empty(), got, what);
                    continue;
                }
                assertTrue(got.isPresent(), what + ": a block was there");
                long pfn = got.get().value() / 4096;
                assertEquals(expected.get()[0], pfn / NODE_FRAMES, what + ": node");
                assertEquals(expected.get()[0], mm.root().nodes().nodeOf(pfn), what + ": node the root names");
                assertEquals(Zone.values()[(int) expected.get()[1]], Zone.of(got.get()), what + ": zone");
                model.take(got.get(), order, what);
            }
            model.assertMatchesAllocator();
        }
    }

    /** An aligned run of 2^order free frames inside {@code node} and {@code zone}. */
    private static boolean hasRun(FreeFrameModel model, int node, Zone zone, int order) {
        return model.hasRun(Math.max(zone.startPfn(), node * NODE_FRAMES), Math.min(zone.endPfn(), (node + 1) * NODE_FRAMES),
                order);
    }

    @Property(tries = 20)
    void fallback_visitsEveryNodeOnce_preferredFirst(@ForAll @IntRange(min = 1, max = 8) int nodes,
                                                     @ForAll @IntRange(min = 0, max = 7) int preferred) {
        int node = preferred % nodes;
        try (MmFixture mm = new MmFixture(MmFixture.RAM, NumaTopology.equalNodes(nodes, MmFixture.RAM / 4096 / 8, 1))) {
            List<Integer> fallback = mm.root().nodes().fallback(node);
            List<Integer> reference = referenceZonelist(node, nodes, Gfp.KERNEL).stream()
                    .filter(p -> p[1] == Zone.DMA.ordinal()).map(p -> (int) p[0]).toList();
            assertEquals(reference, fallback);
            for (int n = 0; n < nodes; n++) {
                assertEquals(n == node ? 10 : 20, NumaNodes.distance(node, n));
            }
        }
    }

    @Test
    void thisNode_refusesWhenItsNodeIsFull_whileOthersStillHaveFrames() {
        try (MmFixture mm = new MmFixture(2 * NODE_FRAMES * 4096, NumaTopology.equalNodes(2, NODE_FRAMES, 2))) {
            PageAllocator pages = mm.memory.pages();
            Gfp thisNode = new Gfp(Gfp.THISNODE);
            int taken = 0;
            while (pages.allocPagesNode(1, 0, FrameType.ALLOCATED, thisNode).isPresent()) {
                taken++;
            }
            assertEquals(NODE_FRAMES, taken, "all of node 1 (no frame of it is reserved in the fixture)");
            Optional<PhysAddr> fallback = pages.allocPagesNode(1, 0, FrameType.ALLOCATED, Gfp.KERNEL);
            assertEquals(0, mm.root().nodes().nodeOf(fallback.orElseThrow().value() / 4096), "without THISNODE: node 0");
            assertTrue(pages.usage().stream().anyMatch(u -> u.node() == 1 && u.free() == 0), pages.usage().toString());
            assertEquals(List.of(), mm.memory.check());
        }
    }

    @Test
    void aNodeThatDoesNotExist_isRefusedWithItsNumber() {
        try (MmFixture mm = new MmFixture(2 * NODE_FRAMES * 4096, NumaTopology.equalNodes(2, NODE_FRAMES, 2))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> mm.memory.pages().allocPagesNode(2, 0, FrameType.ALLOCATED, Gfp.KERNEL));
            assertTrue(e.getMessage().contains("node 2") && e.getMessage().contains("0..1"), e.getMessage());
        }
    }
}
