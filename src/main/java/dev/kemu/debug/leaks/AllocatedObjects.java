package dev.kemu.debug.leaks;

import dev.kemu.kernel.mm.FrameTable;
import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.mm.MmLayout;
import dev.kemu.kernel.mm.MmRoot;
import dev.kemu.kernel.mm.Vma;
import dev.kemu.kernel.mm.VmaKind;
import dev.kemu.kernel.slab.CacheLayout;
import dev.kemu.kernel.slab.KmemCache;
import dev.kemu.kernel.slab.SlabHeader;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PageWalker;
import dev.kemu.machine.VirtAddr;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import static dev.kemu.kernel.mm.MmLayout.PAGE;

/**
 * Every object the allocators say is allocated, read from guest RAM (frame table, slab headers'
 * bitmaps, the VMA list), and the lookup the scan needs: which object, if any, an 8-byte value
 * points into. The allocators' own objects (the vm_area and mm_space caches: VMA nodes and
 * address-space descriptors) are metadata, neither tracked nor scanned, as kmemleak ignores
 * the slab allocator's internals.
 */
final class AllocatedObjects {
    private final MmRoot root;
    private final GuestRam ram;
    private final FrameTable frames;
    private final SlabHeader header;
    private final long directMap;
    private final long ramBytes;
    private final List<Integer> metadataCaches = new ArrayList<>();
    /** Tracked objects by the physical address of their first byte (vmalloc areas: of their first page). */
    private final Map<Long, TrackedObject> byPhysical = new HashMap<>();
    /** vmalloc areas by start address, and the area each of their frames backs. */
    private final TreeMap<Long, TrackedObject> vmallocByStart = new TreeMap<>(Long::compareUnsigned);
    private final Map<Long, TrackedObject> vmallocByFrame = new HashMap<>();
    private final List<TrackedObject> all = new ArrayList<>();

    private AllocatedObjects(KernelMemory memory) {
        this.root = memory.root();
        this.ram = root.ram();
        this.frames = FrameTable.of(root);
        this.header = new SlabHeader(ram);
        this.directMap = root.directMapBase().value();
        this.ramBytes = root.ramBytes();
        metadataCaches.add(root.vmAreaCache());
        memory.spaces().descriptorCache().ifPresent(metadataCaches::add);
    }

    static AllocatedObjects of(KernelMemory memory) {
        AllocatedObjects objects = new AllocatedObjects(memory);
        objects.collectFrames();
        objects.collectVmalloc(memory.areas().vmas());
        return objects;
    }

    List<TrackedObject> all() {
        return all;
    }

    private void collectFrames() {
        for (long pfn = 0; pfn < frames.frames(); pfn++) {
            if (!frames.isHead(pfn) || frames.typeCode(pfn) >= FrameType.values().length) {
                continue;
            }
            FrameType type = frames.type(pfn);
            if (type == FrameType.SLAB) {
                collectSlab(pfn * PAGE);
            } else if (type == FrameType.HEAP) {
                long bytes = PAGE << frames.order(pfn);
                track(new TrackedObject(LeakKind.PAGES, VirtAddr.of(directMap + pfn * PAGE), bytes, "kmalloc pages",
                        List.of(new TrackedObject.PhysicalBytes(pfn * PAGE, bytes))));
            }
        }
    }

    private void collectSlab(long slab) {
        Optional<KmemCache> found = cacheOf(slab);
        if (found.isEmpty()) {
            return; // a slab header the slab checker reports as corrupted: nothing to trust in it
        }
        KmemCache cache = found.get();
        LeakKind kind = isKmalloc(cache.id()) ? LeakKind.KMALLOC : LeakKind.CACHE;
        for (int index = 0; index < cache.objectsPerSlab(); index++) {
            if (header.isAllocated(slab, index)) {
                long object = slab + cache.firstObject() + (long) index * cache.stride();
                track(new TrackedObject(kind, VirtAddr.of(directMap + object), cache.objectSize(), cache.name(),
                        List.of(new TrackedObject.PhysicalBytes(object, cache.objectSize()))));
            }
        }
    }

    /** The tracked cache a slab belongs to; empty for a metadata cache or a header that is not sound. */
    private Optional<KmemCache> cacheOf(long slab) {
        int id = header.cacheId(slab);
        if (header.magic(slab) != SlabHeader.MAGIC_VALUE || id < 0 || id >= KmemCache.describable(root)
                || metadataCaches.contains(id)) {
            return Optional.empty();
        }
        KmemCache cache = KmemCache.of(root, id);
        return cache.active() && laysOutInsideItsSlabs(cache) ? Optional.of(cache) : Optional.empty();
    }

    /**
     * The descriptor is guest RAM: its objects must fit their stride and its slab, or the scan would read past
     * the slab (and track up to 2^31 objects for one page) on a descriptor a bug overwrote.
     */
    private static boolean laysOutInsideItsSlabs(KmemCache cache) {
        int order = cache.slabOrder();
        if (order < 0 || order > 10 || cache.stride() <= 0 || cache.objectSize() <= 0
                || cache.objectSize() > cache.stride() || cache.firstObject() < 0 || cache.objectsPerSlab() < 0) {
            return false;
        }
        return cache.firstObject() + (long) cache.objectsPerSlab() * cache.stride() <= PAGE << order;
    }

    private boolean isKmalloc(int id) {
        int first = root.kmallocFirstCache();
        return id >= first && id <= first + CacheLayout.KMALLOC_MAX_SHIFT - CacheLayout.KMALLOC_MIN_SHIFT;
    }

    private void collectVmalloc(List<Vma> vmas) {
        PageWalker walker = new PageWalker(ram);
        long pml4 = root.pml4().value();
        for (Vma vma : vmas) {
            // A node a bug overwrote could span 2^52 pages: only what lies in the vmalloc range is walked.
            if (vma.kind() != VmaKind.VMALLOC || Long.compareUnsigned(vma.start().value(), MmLayout.VMALLOC_START) < 0
                    || Long.compareUnsigned(vma.end().value(), MmLayout.VMALLOC_END) > 0
                    || Long.compareUnsigned(vma.start().value(), vma.end().value()) >= 0) {
                continue;
            }
            List<TrackedObject.PhysicalBytes> pages = new ArrayList<>();
            for (long va = vma.start().value(); Long.compareUnsigned(va, vma.end().value()) < 0; va += PAGE) {
                long pa = walker.translate(pml4, va);
                if (pa >= 0) {
                    pages.add(new TrackedObject.PhysicalBytes(pa, PAGE));
                }
            }
            if (pages.isEmpty()) {
                continue;
            }
            TrackedObject area = new TrackedObject(LeakKind.VMALLOC, vma.start(), vma.size(), "vmalloc", pages);
            all.add(area);
            vmallocByStart.put(vma.start().value(), area);
            pages.forEach(page -> vmallocByFrame.put(page.start() / PAGE, area));
        }
    }

    private void track(TrackedObject object) {
        all.add(object);
        byPhysical.put(object.firstPhysical(), object);
    }

    /**
     * The tracked object {@code value} points into (its first byte or any byte inside), as a direct-map
     * address, a vmalloc address, or (when {@code aliases} counts them) a physical address; empty when it
     * points into none.
     */
    Optional<TrackedObject> pointedAt(long value, PhysicalAliases aliases) {
        if (Long.compareUnsigned(value - directMap, ramBytes) < 0) {
            return atPhysical(value - directMap);
        }
        var area = vmallocByStart.floorEntry(value);
        if (area != null && Long.compareUnsigned(value - area.getKey(), area.getValue().size()) < 0) {
            return Optional.of(area.getValue());
        }
        return aliases == PhysicalAliases.COUNTED && Long.compareUnsigned(value, ramBytes) < 0 ? atPhysical(value)
                : Optional.empty();
    }

    private Optional<TrackedObject> atPhysical(long pa) {
        long pfn = pa / PAGE;
        if (frames.typeCode(pfn) >= FrameType.values().length) {
            return Optional.empty();
        }
        return switch (frames.type(pfn)) {
            case SLAB -> slabObjectAt(frames.headOf(pfn) * PAGE, pa);
            case HEAP -> Optional.ofNullable(byPhysical.get(frames.headOf(pfn) * PAGE));
            case VMALLOC -> Optional.ofNullable(vmallocByFrame.get(pfn));
            default -> Optional.empty();
        };
    }

    private Optional<TrackedObject> slabObjectAt(long slab, long pa) {
        Optional<KmemCache> cache = cacheOf(slab);
        if (cache.isEmpty()) {
            return Optional.empty();
        }
        long offset = pa - slab - cache.get().firstObject();
        if (offset < 0 || offset % cache.get().stride() >= cache.get().objectSize()) {
            return Optional.empty();
        }
        return Optional.ofNullable(byPhysical.get(pa - offset % cache.get().stride()));
    }
}
