package dev.kemu.kernel.slab;

import dev.kemu.kernel.mm.BuddyAllocator;
import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.FreeResult;
import dev.kemu.kernel.mm.Gfp;
import dev.kemu.kernel.mm.MmLayout;
import dev.kemu.kernel.mm.MmRoot;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.util.Optional;
import java.util.OptionalLong;

import static dev.kemu.kernel.mm.MmLayout.PAGE;
import static dev.kemu.kernel.slab.CacheLayout.*;

/**
 * kmalloc / kzalloc / kfree. Sizes up to 2048 bytes come from the power-of-two caches
 * {@code kmalloc-8} ... {@code kmalloc-2048} (naturally aligned); larger requests get whole
 * pages (2^order frames typed HEAP) from the buddy allocator. {@code kfree} finds the owner
 * from the address alone: the frame table says slab or heap, the slab header names the cache.
 */
public final class Kmalloc {
    private final MmRoot root;
    private final SlabAllocator slabs;
    private final BuddyAllocator buddy;

    public Kmalloc(SlabAllocator slabs, BuddyAllocator buddy) {
        this.root = slabs.root();
        this.slabs = slabs;
        this.buddy = buddy;
    }

    /** Creates the generic caches; called once when the memory manager is set up. */
    public static void createCaches(SlabAllocator slabs) {
        int first = -1;
        for (int shift = KMALLOC_MIN_SHIFT; shift <= KMALLOC_MAX_SHIFT; shift++) {
            int size = 1 << shift;
            int id = slabs.createKmalloc("kmalloc-" + size, size, ZONE_ANY)
                    .orElseThrow(() -> new IllegalStateException("cannot create kmalloc-" + size));
            if (first < 0) {
                first = id;
            } else if (id != first + shift - KMALLOC_MIN_SHIFT) {
                throw new IllegalStateException("kmalloc caches must have consecutive ids");
            }
        }
        slabs.root().setKmallocFirstCache(first);
    }

    /**
     * Returns a direct-map address, {@link CacheLayout#ZERO_SIZE_PTR} for size 0, or empty
     * when out of memory (or {@code size} is negative or above the largest buddy block).
     */
    public Optional<VirtAddr> allocate(long size, boolean zero) {
        return boxed(allocate(size, zero, ZONE_ANY));
    }

    /**
     * kmalloc(size, gfp): {@link Gfp#DMA} or {@link Gfp#DMA32} take the object from the
     * {@code dma-kmalloc-N} / {@code dma32-kmalloc-N} caches (created on first use, as Linux's
     * per-type kmalloc caches), whose slabs come from that zone; large requests take pages from it.
     * GFP_ATOMIC changes nothing: kemu never sleeps, and the kernel's own allocations keep no reserve.
     * Invalid flags ({@link Gfp#valid}) are the caller's bug.
     */
    public Optional<VirtAddr> allocate(long size, Gfp gfp) {
        return boxed(allocateAddress(size, gfp));
    }

    /** {@link #allocate(long, Gfp)} as a raw direct-map address, 0 when empty: HC_KMALLOC's path, nothing boxed. */
    public long allocateAddress(long size, Gfp gfp) {
        if (!gfp.valid()) {
            throw new IllegalArgumentException(String.format("GFP flags 0x%x are not valid", gfp.bits()));
        }
        int zone = (gfp.bits() & Gfp.DMA) != 0 ? ZONE_DMA : (gfp.bits() & Gfp.DMA32) != 0 ? ZONE_DMA32 : ZONE_ANY;
        return allocate(size, gfp.zero(), zone);
    }

    private static Optional<VirtAddr> boxed(long address) {
        return address == 0 ? Optional.empty() : Optional.of(VirtAddr.of(address));
    }

    private long allocate(long size, boolean zero, int zone) {
        if (size == 0) {
            return ZERO_SIZE_PTR;
        }
        if (size < 0) {
            return 0;
        }
        if (size <= 1 << KMALLOC_MAX_SHIFT) {
            int shift = Math.max(KMALLOC_MIN_SHIFT, 64 - Long.numberOfLeadingZeros(size - 1));
            int id = zone == ZONE_ANY ? root.kmallocFirstCache() + shift - KMALLOC_MIN_SHIFT : zoneCache(1 << shift, zone);
            return id < 0 ? 0 : slabs.allocateObject(id, zero);
        }
        long pages = (size + PAGE - 1) / PAGE;
        int order = 64 - Long.numberOfLeadingZeros(pages - 1);
        if (order > MmLayout.MAX_ORDER) {
            return 0;
        }
        if (zone == ZONE_ANY) {
            long block = buddy.allocateBlock(order, FrameType.HEAP, zero);
            return block < 0 ? 0 : root.directMapBase().value() + block;
        }
        Optional<PhysAddr> block = SlabAllocator.zoneBlock(buddy, order, FrameType.HEAP, zone == ZONE_DMA ? Gfp.DMA : Gfp.DMA32);
        if (block.isEmpty()) {
            return 0;
        }
        if (zero) {
            root.ram().fill(block.get().value(), PAGE << order, (byte) 0);
        }
        return root.toVirtual(block.get()).value();
    }

    /** The size class's cache of {@code zone}, found in the cache table or created; -1 when the table is full. */
    private int zoneCache(int size, int zone) {
        for (int id = 0; id < KmemCache.describable(root); id++) {
            KmemCache cache = KmemCache.of(root, id);
            if (cache.active() && cache.isKmalloc() && cache.zone() == zone && cache.objectSize() == size) {
                return id;
            }
        }
        String name = (zone == ZONE_DMA ? "dma-kmalloc-" : "dma32-kmalloc-") + size;
        return slabs.createKmalloc(name, size, zone).orElse(-1);
    }

    /** kfree: frees what {@link #allocate} returned; anything but FREED left everything untouched. */
    public FreeResult free(VirtAddr address) {
        return freeAddress(address.value());
    }

    /** {@link #free} of a raw direct-map address: HC_KFREE's path, nothing boxed. */
    public FreeResult freeAddress(long address) {
        if (address == 0 || address == ZERO_SIZE_PTR) {
            return FreeResult.FREED;
        }
        long phys = slabs.physicalOrNone(address);
        if (phys < 0) {
            return FreeResult.NOT_ALLOCATED;
        }
        FrameType type = buddy.frames().type(phys / PAGE);
        return switch (type) {
            case SLAB -> {
                // The frame type, slab and owner found here are not read again (guest-RAM reads are kfree's cost).
                long slab = slabs.slabOf(phys / PAGE);
                int owner = slabs.cacheIdOf(slab);
                yield isKmallocCache(owner) ? slabs.freeKmallocObject(owner, slab, address, phys)
                        : FreeResult.WRONG_CACHE;
            }
            case HEAP -> buddy.freeBlock(phys, FrameType.HEAP);
            case FREE -> FreeResult.DOUBLE_FREE;
            case PAGE_TABLE, VMALLOC, ALLOCATED -> FreeResult.WRONG_TYPE;
            default -> FreeResult.NOT_ALLOCATED;
        };
    }

    /**
     * kfree takes objects of the size-class caches only: an object of another cache (the
     * internal vm_area cache above all) has an owner that frees it, and the id read from a
     * slab header in guest RAM must not select a cache unchecked.
     */
    private boolean isKmallocCache(int id) {
        int first = root.kmallocFirstCache();
        return (id >= first && id <= first + KMALLOC_MAX_SHIFT - KMALLOC_MIN_SHIFT)
                || (slabs.isActive(id) && slabs.cache(id).isKmalloc());
    }

    /** Usable size of the allocation at {@code address} (its size class or whole pages), or empty if it is none. */
    public OptionalLong usableSize(VirtAddr address) {
        Optional<PhysAddr> behind = root.physicalOf(address);
        if (behind.isEmpty()) {
            return OptionalLong.empty();
        }
        PhysAddr phys = behind.get();
        FrameType type = buddy.frames().type(phys.value() / PAGE);
        if (type == FrameType.SLAB) {
            int owner = slabs.ownerId(phys.value());
            return isKmallocCache(owner) ? OptionalLong.of(slabs.cache(owner).objectSize()) : OptionalLong.empty();
        }
        return type == FrameType.HEAP ? OptionalLong.of(PAGE << buddy.orderAt(phys)) : OptionalLong.empty();
    }
}
