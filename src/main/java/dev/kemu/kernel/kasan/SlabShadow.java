package dev.kemu.kernel.kasan;

import dev.kemu.kernel.mm.FrameTable;
import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.MmRoot;
import dev.kemu.kernel.slab.KmemCache;
import dev.kemu.kernel.slab.SlabHeader;

import static dev.kemu.kernel.mm.MmLayout.PAGE;

/**
 * KASAN's shadow, computed from the slab's own state in guest RAM instead of a shadow map: a byte
 * of a slab page is poisoned when it is inside a free object, or outside every object's first
 * {@code objectSize} bytes (red zone, free pointer, tracks, padding, slab header, slab tail).
 * Free objects of caches with a guest constructor are not poisoned: guest code constructs them.
 */
final class SlabShadow {
    /** Where a byte of a slab lies: its cache and object, and up to where the verdict holds. */
    record Place(KmemCache cache, long slab, int index, long objectPhys, boolean allocated, boolean poisoned,
                 String kind, long regionEnd) {}

    private final MmRoot root;
    private final FrameTable frames;
    private final SlabHeader header;

    SlabShadow(MmRoot root, FrameTable frames) {
        this.root = root;
        this.frames = frames;
        this.header = new SlabHeader(root.ram());
    }

    /** The place of physical byte {@code pa}, or null when it is not in a sound slab. */
    Place locate(long pa) {
        long pfn = pa / PAGE;
        if (pa < 0 || pa >= root.ram().size() || frames.type(pfn) != FrameType.SLAB) {
            return null;
        }
        long head = frames.headOf(pfn);
        long slab = head * PAGE;
        int id = frames.tag(head);
        if (header.magic(slab) != SlabHeader.MAGIC_VALUE || id < 0 || id >= KmemCache.describable(root)) {
            return null;
        }
        KmemCache cache = KmemCache.of(root, id);
        long offset = pa - slab - cache.firstObject();
        if (offset < 0) { // the slab header: described against the first object
            return new Place(cache, slab, 0, slab + cache.firstObject(), header.isAllocated(slab, 0), true,
                    "slab-out-of-bounds", slab + cache.firstObject());
        }
        int index = (int) Math.min(offset / cache.stride(), cache.objectsPerSlab() - 1);
        long objectPhys = slab + cache.firstObject() + (long) index * cache.stride();
        boolean allocated = header.isAllocated(slab, index);
        long within = pa - objectPhys;
        long slotEnd = index == cache.objectsPerSlab() - 1 ? slab + (PAGE << cache.slabOrder()) : objectPhys + cache.stride();
        if (within >= cache.objectSize()) {
            return new Place(cache, slab, index, objectPhys, allocated, true, "slab-out-of-bounds", slotEnd);
        }
        boolean free = !allocated && cache.ctor() >= 0;
        return new Place(cache, slab, index, objectPhys, allocated, free, "slab-use-after-free",
                objectPhys + cache.objectSize());
    }
}
