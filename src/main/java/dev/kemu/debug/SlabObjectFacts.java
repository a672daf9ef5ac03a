package dev.kemu.debug;

import dev.kemu.kernel.mm.FrameTable;
import dev.kemu.kernel.mm.MmRoot;
import dev.kemu.kernel.slab.KmemCache;
import dev.kemu.kernel.slab.SlabHeader;
import dev.kemu.kernel.slab.SlubTrack;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.util.List;
import java.util.function.LongFunction;

import static dev.kemu.kernel.mm.MmLayout.PAGE;

/**
 * What a physical address inside a slab is: the slab's cache, the object index and offset, and whether the
 * object is allocated, read from the slab header's bitmap and confirmed by walking its freelist in guest RAM.
 * Everything is guest memory, so each pointer is bounded before it is followed.
 */
final class SlabObjectFacts {
    static final String SITES_NOT_RECORDED = "not recorded (the cache was created without --slub-debug=U)";

    private SlabObjectFacts() {}

    static void describe(MmRoot root, FrameTable frames, long pfn, long pa, List<String> lines,
                         LongFunction<String> symbolizer) {
        GuestRam ram = root.ram();
        long head = frames.headOf(pfn);
        long slab = head * PAGE;
        SlabHeader header = new SlabHeader(ram);
        int id = frames.tag(head);
        if (header.magic(slab) != SlabHeader.MAGIC_VALUE || id < 0 || id >= KmemCache.describable(root)) {
            lines.add(String.format("owner: slab at P0x%x whose header (magic 0x%x) or frame tag (cache %d) is not sound",
                    slab, header.magic(slab), id));
            return;
        }
        KmemCache cache = KmemCache.of(root, id);
        lines.add(String.format("owner: slab at P0x%x of cache %s (id %d, %d-byte objects every %d bytes, %d per slab, "
                        + "%d in use)", slab, cache.name(), id, cache.objectSize(), cache.stride(), cache.objectsPerSlab(),
                header.inuse(slab)));
        long offset = pa - slab - cache.firstObject();
        if (offset < 0) {
            lines.add(String.format("object: none: +0x%x is the slab header (objects start at +0x%x)", pa - slab,
                    cache.firstObject()));
            return;
        }
        int index = (int) (offset / cache.stride());
        if (index >= cache.objectsPerSlab()) {
            lines.add(String.format("object: none: +0x%x is the slab's unused tail after its %d objects", pa - slab,
                    cache.objectsPerSlab()));
            return;
        }
        long objectPhys = slab + cache.firstObject() + (long) index * cache.stride();
        long within = pa - objectPhys;
        String padding = within >= cache.objectSize() ? " (padding after the object)" : "";
        boolean allocated = header.isAllocated(slab, index);
        int position = freelistPosition(root, cache, slab, objectPhys);
        String state = allocated ? "allocated" : "free";
        if (allocated == (position >= 0)) {
            state += position >= 0 ? ", but it is also on the freelist (metadata inconsistent)"
                    : ", but it is not on the freelist (metadata inconsistent)";
        } else if (position >= 0) {
            state += String.format(" (position %d on the slab's freelist)", position);
        }
        lines.add(String.format("object: index %d at %s (P0x%x), offset +0x%x%s: %s", index,
                root.toVirtual(PhysAddr.of(objectPhys)), objectPhys, within, padding, state));
        lines.add("allocated at: " + site(cache, objectPhys, SlubTrack.ALLOC, symbolizer));
        lines.add("freed at: " + site(cache, objectPhys, SlubTrack.FREE, symbolizer));
    }

    private static String site(KmemCache cache, long objectPhys, int which, LongFunction<String> symbolizer) {
        return SlubSites.of(cache, objectPhys, which, symbolizer).orElse(SITES_NOT_RECORDED);
    }

    /** Where {@code objectPhys} is on the slab's freelist (0 = first), or -1 when it is not on it. */
    private static int freelistPosition(MmRoot root, KmemCache cache, long slab, long objectPhys) {
        GuestRam ram = root.ram();
        long slabEnd = slab + (PAGE << cache.slabOrder());
        long object = new SlabHeader(ram).freelist(slab);
        for (int position = 0; object != 0 && position <= cache.objectsPerSlab(); position++) {
            long phys = root.physicalOf(VirtAddr.of(object)).map(PhysAddr::value).orElse(-1L);
            if (phys < slab || phys + cache.freePointerOffset() + 8 > slabEnd) {
                return -1;
            }
            if (phys == objectPhys) {
                return position;
            }
            object = ram.read64(phys + cache.freePointerOffset());
        }
        return -1;
    }
}
