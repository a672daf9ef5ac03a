package dev.kemu.kernel.slab;

import dev.kemu.kernel.mm.MmRoot;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;

import static dev.kemu.kernel.slab.CacheLayout.*;

/**
 * Typed access to one kmem_cache descriptor in guest RAM, at physical address {@code descriptor}.
 * The descriptor and the slab addresses it hands out ({@link #current}, {@link #listHead}) are raw
 * physical addresses, as {@link SlabHeader} takes them: all sit on the kmalloc/kfree hot path,
 * which makes one view per call and reads a field through it about ten times.
 */
public record KmemCache(GuestRam ram, long descriptor, int id) {

    public static KmemCache of(MmRoot root, int id) {
        if (id < 0 || id >= root.cacheCapacity()) {
            throw new IndexOutOfBoundsException("cache id " + id);
        }
        return new KmemCache(root.ram(), root.cacheTable().value() + (long) id * SIZE, id);
    }

    /** Where the descriptor is, as reports print it. */
    public PhysAddr phys() {
        return PhysAddr.of(descriptor);
    }

    /**
     * How many descriptors of the cache table can be read: the capacity the root states, but
     * never past the end of RAM (the root is guest memory and may be overwritten).
     */
    public static int describable(MmRoot root) {
        long table = root.cacheTable().value();
        long size = root.ram().size();
        if (table < 0 || table >= size) {
            return 0;
        }
        return (int) Math.max(0, Math.min(root.cacheCapacity(), (size - table) / SIZE));
    }

    public boolean active() {
        return (ram.read32(descriptor + FLAGS) & FLAG_ACTIVE) != 0;
    }

    public String name() {
        return ram.readCString(descriptor + NAME, NAME_MAX + 1);
    }

    public int objectSize() {
        return ram.read32(descriptor + OBJECT_SIZE);
    }

    public int align() {
        return ram.read32(descriptor + ALIGN);
    }

    public int stride() {
        return ram.read32(descriptor + STRIDE);
    }

    public int objectsPerSlab() {
        return ram.read32(descriptor + PER_SLAB);
    }

    public int slabOrder() {
        return ram.read32(descriptor + ORDER);
    }

    public int firstObject() {
        return ram.read32(descriptor + FIRST_OBJECT);
    }

    public int ctor() {
        return ram.read32(descriptor + CTOR);
    }

    /** The guest constructor's address, or empty for a cache without one (or with a host constructor). */
    public java.util.Optional<dev.kemu.machine.VirtAddr> guestConstructor() {
        int ctor = ctor();
        return ctor < 0 ? java.util.Optional.of(dev.kemu.machine.VirtAddr.of(ctor)) : java.util.Optional.empty();
    }

    /**
     * Where a free object holds the next free one: its first 8 bytes, or right after the object
     * when a constructor's state must survive the free (SLUB moves its free pointer the same way).
     */
    public int freePointerOffset() {
        return freePointerOffset(debugFlags());
    }

    /** {@link #freePointerOffset()} with the {@link #debugFlags} the caller already read (one guest-RAM read less). */
    int freePointerOffset(int debug) {
        int ctor = ctor();
        if (ctor == 0 && (debug & SlubDebug.POISON) == 0) {
            return 0;
        }
        long offset = ObjectSlot.of(objectSize(), ctor != 0, debug).freePointer();
        if (objectSize() <= 0 || offset + 8 > Integer.toUnsignedLong(stride())) {
            // Guest RAM holds the descriptor: a bad size must not send the free pointer outside the object's slot.
            throw new dev.kemu.kernel.mm.KernelPanic(String.format("cache %s: descriptor at %s has object size %d and"
                    + " stride %d, no room for the free pointer after the object", name(), phys(), objectSize(), stride()));
        }
        return (int) offset;
    }

    /** The zone its slabs come from: {@link CacheLayout#ZONE_ANY}, {@link CacheLayout#ZONE_DMA} or {@link CacheLayout#ZONE_DMA32}. */
    public int zone() {
        return (ram.read32(descriptor + FLAGS) >>> FLAG_ZONE_SHIFT) & 3;
    }

    public boolean isKmalloc() {
        return (ram.read32(descriptor + FLAGS) & FLAG_KMALLOC) != 0;
    }

    /** The --slub-debug modes the cache was created with ({@link SlubDebug#CONSISTENCY} ... bits), 0 = none. */
    public int debugFlags() {
        return ram.read32(descriptor + FLAGS) & SlubDebug.ALL;
    }

    public long listHead(int list) {
        return ram.read64(descriptor + CacheLayout.listHead(list));
    }

    public int listCount(int list) {
        return ram.read32(descriptor + CacheLayout.listCount(list));
    }

    public long activeObjects() {
        return ram.read64(descriptor + ACTIVE);
    }

    public long totalObjects() {
        return ram.read64(descriptor + TOTAL);
    }

    /** The slab allocations come from first, 0 = none. */
    public long current() {
        return ram.read64(descriptor + CURRENT);
    }

    void setCurrent(long slab) {
        ram.write64(descriptor + CURRENT, slab);
    }

    public int slabs() {
        return listCount(LIST_PARTIAL) + listCount(LIST_FULL) + listCount(LIST_EMPTY) + (current() != 0 ? 1 : 0);
    }

    void addActive(long delta) {
        ram.write64(descriptor + ACTIVE, activeObjects() + delta);
    }

    void addTotal(long delta) {
        ram.write64(descriptor + TOTAL, totalObjects() + delta);
    }
}
