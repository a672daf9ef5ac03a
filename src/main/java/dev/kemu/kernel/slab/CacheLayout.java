package dev.kemu.kernel.slab;

/**
 * Guest-RAM layouts of the slab allocator.
 *
 * <pre>
 * kmem_cache (128 bytes; the cache table in the mm root holds 64 of them, indexed by cache id)
 *   +0   char name[32]          NUL-terminated
 *   +32  u32 object_size        as requested
 *   +36  u32 align
 *   +40  u32 stride             object size rounded up to the alignment (and to 8)
 *   +44  u32 objects_per_slab
 *   +48  u32 slab_order         a slab is 2^order frames
 *   +52  u32 first_object       offset of object 0 from the slab's start
 *   +56  u32 flags              bit 0 = in use; bit 1 = a kmalloc size class; bits 16-17 the slabs'
 *                               zone (0 any, 1 DMA, 2 DMA32); --slub-debug modes: 0x100 F, 0x200 Z, 0x400 P, 0x800 U
 *                               (the object slot's layout follows from them: {@link ObjectSlot})
 *   +60  u32 ctor               0 = none; 1..0x7fffffff a host constructor id; bit 31 set: a guest
 *                               constructor, the low half of its kernel-image address (the top
 *                               2 GiB, so the u32 sign-extends to it, as -mcmodel=kernel)
 *                               Caches with a constructor (or P) keep the free pointer after the object
 *                               (at object_size rounded up to 8), so freed objects stay constructed.
 *   +64  u64 partial list head  physical address of a slab header, 0 = empty list
 *   +72  u64 full list head
 *   +80  u64 empty list head
 *   +88  u32 nr_partial   +92 u32 nr_full   +96 u32 nr_empty
 *   +104 u64 active objects     +112 u64 total objects
 *   +120 u64 current slab       physical; allocations come from it first and it is on no list
 *                               (as SLUB's cpu slab), so an alloc/free pair moves no list links
 *
 * slab header: see {@link SlabHeader}, the one place its offsets live.
 * </pre>
 */
public final class CacheLayout {
    public static final int SIZE = 128;
    public static final int NAME = 0, NAME_MAX = 31, OBJECT_SIZE = 32, ALIGN = 36, STRIDE = 40, PER_SLAB = 44,
            ORDER = 48, FIRST_OBJECT = 52, FLAGS = 56, CTOR = 60, PARTIAL = 64, FULL = 72, EMPTY = 80,
            NR_PARTIAL = 88, NR_FULL = 92, NR_EMPTY = 96, ACTIVE = 104, TOTAL = 112, CURRENT = 120;
    public static final int FLAG_ACTIVE = 1;
    /** A kmalloc size-class cache of any zone: kfree takes its objects, the cache calls refuse it. */
    public static final int FLAG_KMALLOC = 2;
    /** Bits 16-17: the zone the cache's slabs come from: 0 any (first free block), 1 DMA, 2 DMA32 (then DMA). */
    public static final int FLAG_ZONE_SHIFT = 16, ZONE_ANY = 0, ZONE_DMA = 1, ZONE_DMA32 = 2;

    public static final int LIST_PARTIAL = 0, LIST_FULL = 1, LIST_EMPTY = 2, LIST_CURRENT = 3;

    /** Generic kmalloc size classes: 8, 16, ..., 2048 bytes. */
    public static final int KMALLOC_MIN_SHIFT = 3, KMALLOC_MAX_SHIFT = 11;
    /** What kmalloc(0) returns, as in Linux: not NULL, never dereferenceable, kfree accepts it. */
    public static final long ZERO_SIZE_PTR = 16;

    private CacheLayout() {}

    /** Head offset of the list with the given {@link #LIST_PARTIAL}-style number. */
    static int listHead(int list) {
        return PARTIAL + 8 * list;
    }

    static int listCount(int list) {
        return NR_PARTIAL + 4 * list;
    }
}
