package dev.kemu.kernel.mm;

import dev.kemu.machine.PhysAddr;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static dev.kemu.kernel.mm.MmLayout.PAGE;

/**
 * get_free_pages and alloc_pages_node with GFP flags over the buddy allocator: the fallback over
 * nodes ({@link NumaNodes#fallback}) and zones ({@link Gfp#zonelist()}) and a reserve for atomic allocations. The reserve is Linux's min
 * watermark in spirit (mm/page_alloc.c, __zone_watermark_ok), kept for the whole of RAM rather
 * than per zone: a GFP_KERNEL request that would leave fewer free frames than the reserve fails
 * (kemu has nothing to reclaim and cannot sleep), a GFP_ATOMIC one may use half of it.
 */
public final class PageAllocator {
    /** Reserve: 1/128 of RAM, at least 16 frames. */
    static final int RESERVE_DIVISOR = 128, RESERVE_MIN = 16;

    private final BuddyAllocator buddy;

    public PageAllocator(BuddyAllocator buddy) {
        this.buddy = buddy;
    }

    /** Frames the GFP_KERNEL requests leave free for atomic ones. */
    public long reserve() {
        return Math.max(RESERVE_MIN, buddy.root().frameCount() / RESERVE_DIVISOR);
    }

    /**
     * {@code 2^order} frames for {@code type} under {@code flags}; empty when no allowed zone has
     * a block or the reserve forbids it. Invalid flags are the caller's bug ({@link Gfp#valid}).
     */
    public Optional<PhysAddr> getFreePages(int order, FrameType type, Gfp flags) {
        return allocPagesNode(0, order, type, flags);
    }

    /**
     * {@code alloc_pages_node}: {@code 2^order} frames preferring {@code node}. The zonelist is Linux's node
     * order: every allowed zone of the node (highest first), then every allowed zone of the next node in
     * {@link NumaNodes#fallback} order; {@link Gfp#THISNODE} stops after the first node.
     */
    public Optional<PhysAddr> allocPagesNode(int node, int order, FrameType type, Gfp flags) {
        if (!flags.valid()) {
            throw new IllegalArgumentException(String.format("GFP flags 0x%x are not valid", flags.bits()));
        }
        checkNode(node);
        long keep = flags.atomic() ? reserve() / 2 : reserve();
        if (buddy.root().freeFrames() - (1L << order) < keep) {
            return Optional.empty();
        }
        return fromZonelist(node, order, type, flags);
    }

    /**
     * {@link #allocPagesNode}'s zonelist walk without the atomic reserve: the kernel's own allocations (slabs of
     * a zone's kmalloc caches, their large objects) keep none and never sleep.
     */
    public Optional<PhysAddr> fromZonelist(int node, int order, FrameType type, Gfp flags) {
        checkNode(node);
        NumaNodes nodes = buddy.root().nodes();
        List<Integer> tried = flags.thisNode() ? List.of(node) : nodes.fallback(node);
        for (int candidate : tried) {
            for (Zone zone : flags.zonelist()) {
                Optional<PhysAddr> block = buddy.allocateFrom(candidate, zone, order, type, flags.zero());
                if (block.isPresent()) {
                    return block;
                }
            }
        }
        return Optional.empty();
    }

    private void checkNode(int node) {
        NumaNodes nodes = buddy.root().nodes();
        if (node < 0 || node >= nodes.count()) {
            throw new IllegalArgumentException("node " + node + " does not exist; this machine has nodes 0.."
                    + (nodes.count() - 1));
        }
    }

    /** One zeroed frame ({@code get_zeroed_page}). */
    public Optional<PhysAddr> getZeroedPage(FrameType type, Gfp flags) {
        return getFreePages(0, type, new Gfp(flags.bits() | Gfp.ZERO));
    }

    /** Free and total frames per node and zone that has RAM, for the physical map (node by node). */
    public List<ZoneUsage> usage() {
        FrameTable frames = buddy.frames();
        NumaNodes nodes = buddy.root().nodes();
        List<ZoneUsage> rows = new ArrayList<>();
        for (int node = 0; node < nodes.count(); node++) {
            for (Zone zone : Zone.values()) {
                long start = Math.max(zone.startPfn(), nodes.startPfn(node));
                long end = Math.min(Math.min(zone.endPfn(), frames.frames()), nodes.endPfn(node)), free = 0, usable = 0;
                for (long pfn = start; pfn < end; pfn++) {
                    FrameType type = frames.type(pfn);
                    usable += type == FrameType.RESERVED ? 0 : 1;
                    free += type == FrameType.FREE ? 1 : 0;
                }
                if (end > start) {
                    rows.add(new ZoneUsage(node, zone, PhysAddr.of(start * PAGE), PhysAddr.of(end * PAGE), usable, free));
                }
            }
        }
        return rows;
    }

    /** One node's zone [start, end): frames that are RAM the allocator manages (not reserved), and the free ones. */
    public record ZoneUsage(int node, Zone zone, PhysAddr start, PhysAddr end, long managed, long free) {
        @Override
        public String toString() {
            return String.format("zone %-6s %8d frames managed, %8d free (%d KiB), node %d [%s, %s)", zone.label(), managed,
                    free, free * PAGE / 1024, node, start, end);
        }
    }
}
