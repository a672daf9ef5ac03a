package dev.kemu.kernel.slab;

import dev.kemu.machine.GuestRam;

/**
 * Named accessors for the header at the start of every slab (Linux's {@code get_freepointer}
 * idea: no caller adds raw offsets to a slab address). Stateless apart from guest RAM.
 *
 * <p>The one place in {@code kernel.slab} where addresses stay raw {@code long}s on purpose:
 * the accessors take the slab's physical address, and {@link #freelist}/{@link #next}/{@link #prev}
 * hold what the guest-visible header holds, a direct-map address or a physical one as the
 * layout below says. Every kmalloc and kfree makes about ten of these calls on its hot path,
 * so they take and return the plain value the layout stores. Their callers ({@link SlabAllocator},
 * {@link SlabChecker}) keep these values inside method bodies; {@link SlabAllocator} and
 * {@link Kmalloc} take and return {@code PhysAddr}/{@code VirtAddr} at their public methods.
 *
 * <pre>
 * slab header (at the start of the slab's first frame; physical addresses)
 *   +0   u32 magic      0x51AB51AB while the slab belongs to a cache
 *   +4   u32 cache id   index into the cache table
 *   +8   u64 freelist   direct-map address of the first free object, 0 = none;
 *                       each free object's first 8 bytes hold the next one
 *   +16  u32 inuse      allocated objects
 *   +20  u32 list       0 partial, 1 full, 2 empty, 3 current, -1 on no list
 *   +24  u64 next       physical address of the next slab on its list, 0 = end
 *   +32  u64 prev       physical address of the previous slab, 0 = first
 *   +40  u8  allocated[(objects + 7) / 8]   bit i set = object i allocated (catches double frees)
 *   ...  objects from the cache's first_object, every stride bytes
 * </pre>
 */
public final class SlabHeader {
    public static final int MAGIC_VALUE = 0x51AB51AB;
    /** {@link #belongsTo} reads magic and cache id as one u64: they must stay adjacent. */
    static final int MAGIC = 0, CACHE = 4, FREELIST = 8, INUSE = 16, LIST = 20, NEXT = 24, PREV = 32, BITMAP = 40;

    private final GuestRam ram;

    public SlabHeader(GuestRam ram) {
        this.ram = ram;
    }

    /** Bytes of header before the objects of a slab with {@code objects} objects, before alignment. */
    static int bytesFor(int objects) {
        return BITMAP + (objects + 7) / 8;
    }

    public int magic(long slab) {
        return ram.read32(slab + MAGIC);
    }

    public void setMagic(long slab, int value) {
        ram.write32(slab + MAGIC, value);
    }

    public int cacheId(long slab) {
        return ram.read32(slab + CACHE);
    }

    public void setCacheId(long slab, int id) {
        ram.write32(slab + CACHE, id);
    }

    /** True when the header carries the magic and names cache {@code id}: both fields in one read (little-endian). */
    public boolean belongsTo(long slab, int id) {
        return ram.read64(slab + MAGIC) == ((long) id << 32 | Integer.toUnsignedLong(MAGIC_VALUE));
    }

    public long freelist(long slab) {
        return ram.read64(slab + FREELIST);
    }

    public void setFreelist(long slab, long object) {
        ram.write64(slab + FREELIST, object);
    }

    public int inuse(long slab) {
        return ram.read32(slab + INUSE);
    }

    public void setInuse(long slab, int count) {
        ram.write32(slab + INUSE, count);
    }

    public int list(long slab) {
        return ram.read32(slab + LIST);
    }

    public void setList(long slab, int list) {
        ram.write32(slab + LIST, list);
    }

    public long next(long slab) {
        return ram.read64(slab + NEXT);
    }

    public void setNext(long slab, long next) {
        ram.write64(slab + NEXT, next);
    }

    public long prev(long slab) {
        return ram.read64(slab + PREV);
    }

    public void setPrev(long slab, long prev) {
        ram.write64(slab + PREV, prev);
    }

    public boolean isAllocated(long slab, int index) {
        return (ram.read8(slab + BITMAP + index / 8) & (1 << (index % 8))) != 0;
    }

    public void setAllocated(long slab, int index, boolean allocated) {
        long at = slab + BITMAP + index / 8;
        int bits = ram.read8(at);
        ram.write8(at, allocated ? bits | (1 << (index % 8)) : bits & ~(1 << (index % 8)));
    }
}
