package dev.kemu.kernel.mm;

import java.util.List;

/**
 * Allocation flags as Linux names them (include/linux/gfp_types.h), with kemu's bit values
 * (docs/ABI.md). The zone modifiers pick the highest zone a request may use; the allocator walks
 * down from it (the zonelist: NORMAL, DMA32, DMA), so low memory is used only when higher zones
 * have no block. GFP_ATOMIC may dip into the reserve that GFP_KERNEL requests leave alone.
 */
public record Gfp(long bits) {
    /** Zero the pages ({@code __GFP_ZERO}); the same bit as {@code ALLOC_ZERO}. */
    public static final long ZERO = 1;
    public static final long DMA = 0x10;
    public static final long DMA32 = 0x20;
    /** Cannot sleep or reclaim; may use half of the reserve (Linux's ALLOC_HIGH). */
    public static final long ATOMIC = 0x40;
    /** Only the requested node ({@code __GFP_THISNODE}): no fallback to other nodes. */
    public static final long THISNODE = 0x80;
    public static final long ALL = ZERO | DMA | DMA32 | ATOMIC | THISNODE;
    public static final Gfp KERNEL = new Gfp(0);

    /** Valid flags: no unknown bit, at most one zone modifier. */
    public boolean valid() {
        return (bits & ~ALL) == 0 && (bits & (DMA | DMA32)) != (DMA | DMA32);
    }

    public boolean zero() {
        return (bits & ZERO) != 0;
    }

    public boolean atomic() {
        return (bits & ATOMIC) != 0;
    }

    public boolean thisNode() {
        return (bits & THISNODE) != 0;
    }

    /** The zones to try, in order: the highest the flags allow, then each lower one. */
    public List<Zone> zonelist() {
        if ((bits & DMA) != 0) {
            return List.of(Zone.DMA);
        }
        if ((bits & DMA32) != 0) {
            return List.of(Zone.DMA32, Zone.DMA);
        }
        return List.of(Zone.NORMAL, Zone.DMA32, Zone.DMA);
    }
}
