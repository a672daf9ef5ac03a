package dev.kemu.kernel.mm;

import dev.kemu.machine.PhysAddr;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static dev.kemu.kernel.mm.MmLayout.PAGE;

/**
 * get_free_pages with GFP flags over the buddy allocator: the zonelist fallback of
 * {@link Gfp#zonelist()} and a reserve for atomic allocations. The reserve is Linux's min
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
        if (!flags.valid()) {
            throw new IllegalArgumentException(String.format("GFP flags 0x%x are not valid", flags.bits()));
        }
        long keep = flags.atomic() ? reserve() / 2 : reserve();
        if (buddy.root().freeFrames() - (1L << order) < keep) {
            return Optional.empty();
        }
        for (Zone zone : flags.zonelist()) {
            Optional<PhysAddr> block = buddy.allocateWithin(order, type, flags.zero(), zone.startPfn(), zone.endPfn());
            if (block.isPresent()) {
                return block;
            }
        }
        return Optional.empty();
    }

    /** One zeroed frame ({@code get_zeroed_page}). */
    public Optional<PhysAddr> getZeroedPage(FrameType type, Gfp flags) {
        return getFreePages(0, type, new Gfp(flags.bits() | Gfp.ZERO));
    }

    /** Free and total frames per zone that has RAM, for the physical map. */
    public List<ZoneUsage> usage() {
        FrameTable frames = buddy.frames();
        List<ZoneUsage> rows = new ArrayList<>();
        for (Zone zone : Zone.values()) {
            long end = Math.min(zone.endPfn(), frames.frames()), free = 0, usable = 0;
            for (long pfn = zone.startPfn(); pfn < end; pfn++) {
                FrameType type = frames.type(pfn);
                usable += type == FrameType.RESERVED ? 0 : 1;
                free += type == FrameType.FREE ? 1 : 0;
            }
            if (end > zone.startPfn()) {
                rows.add(new ZoneUsage(zone, usable, free));
            }
        }
        return rows;
    }

    /** One zone's frames: those that are RAM the allocator manages (not reserved), and the free ones. */
    public record ZoneUsage(Zone zone, long managed, long free) {
        @Override
        public String toString() {
            return String.format("zone %-6s %8d frames managed, %8d free (%d KiB)", zone.label(), managed, free,
                    free * PAGE / 1024);
        }
    }
}
