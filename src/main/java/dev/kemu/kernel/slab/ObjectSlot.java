package dev.kemu.kernel.slab;

import dev.kemu.kernel.mm.KernelPanic;

import static dev.kemu.kernel.mm.MmLayout.PAGE;

/**
 * Where the parts of one object's slot are, from the object size, whether the cache has a
 * constructor and its debug flags (the layout of Linux's slub.c, without the left red zone):
 *
 * <pre>
 *   [0, objectSize)            the object
 *   [objectSize, redZoneEnd)   Z: right red zone, 0xbb while free, 0xcc while allocated; at least 8 bytes
 *   freePointer (8 bytes)      0 (inside the free object) unless a constructor or P needs the object
 *                              intact: then at redZoneEnd rounded up to 8
 *   [track, track + 48)        U: two struct track, allocation then free ({@link SlubTrack})
 *   [end, stride)              padding, 0x5a under P
 * </pre>
 */
public record ObjectSlot(int objectSize, int redZoneEnd, int freePointer, int track, int end) {

    public static ObjectSlot of(int objectSize, boolean constructor, int debugFlags) {
        int aligned = (objectSize + 7) & -8;
        int redZoneEnd = objectSize;
        if ((debugFlags & SlubDebug.RED_ZONE) != 0) {
            redZoneEnd = aligned == objectSize ? objectSize + 8 : aligned;
        }
        boolean outside = constructor || (debugFlags & SlubDebug.POISON) != 0;
        int after = (redZoneEnd + 7) & -8;
        int freePointer = outside ? after : 0;
        int track = outside ? after + 8 : after;
        int end = (debugFlags & SlubDebug.TRACK) != 0 ? track + 2 * SlubTrack.SIZE : outside ? track : objectSize;
        return new ObjectSlot(objectSize, redZoneEnd, freePointer, track, end);
    }

    static ObjectSlot of(KmemCache cache) {
        ObjectSlot slot = of(cache.objectSize(), cache.ctor() != 0, cache.debugFlags());
        // The descriptor and its debug flags are guest RAM: a slot that does not fit its stride, or slots that do
        // not fit the slab, would have the debugger write poison and tracks into the neighbours.
        int order = cache.slabOrder();
        if (cache.objectSize() <= 0 || slot.end() > cache.stride() || order < 0 || order > 10 || cache.firstObject() < 0
                || cache.firstObject() + (long) cache.objectsPerSlab() * cache.stride() > (PAGE << order)) {
            throw new KernelPanic(String.format("cache %s descriptor at %s: object size %d, debug flags 0x%x need %d "
                            + "bytes a slot but the stride is %d (%d objects from +%d in an order-%d slab)", cache.name(),
                    cache.phys(), cache.objectSize(), cache.debugFlags(), slot.end(), cache.stride(),
                    cache.objectsPerSlab(), cache.firstObject(), order));
        }
        return slot;
    }
}
