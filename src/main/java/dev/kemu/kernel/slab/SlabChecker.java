package dev.kemu.kernel.slab;

import dev.kemu.kernel.mm.FrameTable;
import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.MmRoot;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.kemu.kernel.mm.MmLayout.PAGE;
import static dev.kemu.kernel.slab.CacheLayout.*;

/**
 * Walks every cache, slab list, freelist and bitmap in guest RAM and lists inconsistencies.
 * A pointer or count read from guest RAM is checked before it is followed or used as a
 * bound, so corrupted metadata becomes a finding naming the address and what was expected.
 */
public final class SlabChecker {
    private SlabChecker() {}

    public static List<String> check(MmRoot root) {
        List<String> problems = new ArrayList<>();
        FrameTable frames = FrameTable.of(root);
        Set<Long> slabsSeen = new HashSet<>();
        for (int id = 0; id < KmemCache.describable(root); id++) {
            KmemCache cache = KmemCache.of(root, id);
            if (cache.active() && descriptorSound(root, cache, problems)) {
                checkCache(root, frames, cache, slabsSeen, problems);
            }
        }
        int slabCode = FrameType.SLAB.ordinal();
        for (long pfn = 0; pfn < frames.frames(); pfn++) {
            if (frames.typeCode(pfn) == slabCode && frames.isHead(pfn) && !slabsSeen.contains(pfn * PAGE)) {
                problems.add(String.format("slab frame P0x%x is on no cache's list (leaked)", pfn * PAGE));
            }
        }
        return problems;
    }

    /** The descriptor fields that bound the walks below: stride, objects, order, first object. */
    private static boolean descriptorSound(MmRoot root, KmemCache cache, List<String> problems) {
        long slabBytes = PAGE << Math.min(cache.slabOrder(), SlabAllocator.MAX_SLAB_ORDER);
        int stride = cache.stride(), objects = cache.objectsPerSlab();
        boolean sound = cache.slabOrder() >= 0 && cache.slabOrder() <= SlabAllocator.MAX_SLAB_ORDER && stride > 0
                && objects > 0 && cache.firstObject() >= SlabHeader.bytesFor(objects)
                && cache.firstObject() + (long) objects * stride <= slabBytes;
        if (!sound) {
            problems.add(String.format("cache %d (%s) descriptor at %s: order %d, stride %d, %d objects from +%d do not"
                            + " fit a slab of at most %d frames", cache.id(), cache.name(), cache.phys(), cache.slabOrder(),
                    stride, objects, cache.firstObject(), 1 << SlabAllocator.MAX_SLAB_ORDER));
        }
        return sound;
    }

    private static void checkCache(MmRoot root, FrameTable frames, KmemCache cache, Set<Long> slabsSeen,
                                   List<String> problems) {
        GuestRam ram = root.ram();
        SlabHeader header = new SlabHeader(ram);
        long active = 0, total = 0;
        for (int list = LIST_PARTIAL; list <= LIST_EMPTY; list++) {
            int count = 0;
            long prev = 0;
            for (long slab = cache.listHead(list); slab != 0; slab = header.next(slab)) {
                String where = String.format("cache %s slab P0x%x", cache.name(), slab);
                if (!isSlabAddress(root, cache, slab)) {
                    problems.add(where + String.format(" on list %d: not the start of a slab inside RAM", list));
                    break;
                }
                if (!slabsSeen.add(slab) || count > frames.frames()) {
                    problems.add(where + ": listed twice or the list loops");
                    break;
                }
                checkSlab(root, cache, slab, list, prev, where, problems);
                active += header.inuse(slab);
                total += cache.objectsPerSlab();
                prev = slab;
                count++;
            }
            if (count != cache.listCount(list)) {
                problems.add(String.format("cache %s list %d holds %d slabs, counted %d", cache.name(), list, count,
                        cache.listCount(list)));
            }
        }
        long current = cache.current();
        if (current != 0) {
            String where = String.format("cache %s current slab P0x%x", cache.name(), current);
            if (!isSlabAddress(root, cache, current)) {
                problems.add(where + ": not the start of a slab inside RAM");
            } else if (!slabsSeen.add(current)) {
                problems.add(where + ": also on a list");
            } else {
                checkSlab(root, cache, current, LIST_CURRENT, -1, where, problems);
                active += header.inuse(current);
                total += cache.objectsPerSlab();
            }
        }
        if (active != cache.activeObjects() || total != cache.totalObjects()) {
            problems.add(String.format("cache %s: slabs hold %d/%d objects, the cache counts %d/%d", cache.name(),
                    active, total, cache.activeObjects(), cache.totalObjects()));
        }
    }

    private static boolean isSlabAddress(MmRoot root, KmemCache cache, long slab) {
        return slab > 0 && (slab & (PAGE - 1)) == 0 && slab + (PAGE << cache.slabOrder()) <= root.ram().size();
    }

    private static void checkSlab(MmRoot root, KmemCache cache, long slab, int list, long prev, String where,
                                  List<String> problems) {
        GuestRam ram = root.ram();
        SlabHeader header = new SlabHeader(ram);
        FrameTable frames = FrameTable.of(root);
        long pfn = slab / PAGE;
        if (header.magic(slab) != SlabHeader.MAGIC_VALUE || header.cacheId(slab) != cache.id()) {
            problems.add(where + String.format(": magic 0x%x and cache id %d, expected 0x%x and %d",
                    header.magic(slab), header.cacheId(slab), SlabHeader.MAGIC_VALUE, cache.id()));
            return;
        }
        if (frames.typeCode(pfn) != FrameType.SLAB.ordinal() || !frames.isHead(pfn) || frames.order(pfn) != cache.slabOrder()
                || frames.tag(pfn) != cache.id()) {
            problems.add(where + ": frame table says type " + frames.typeCode(pfn) + " order " + frames.order(pfn)
                    + " tag " + frames.tag(pfn) + ", expected a SLAB head of order " + cache.slabOrder() + " tagged "
                    + cache.id());
        }
        if (header.list(slab) != list || (list != LIST_CURRENT && header.prev(slab) != prev)) {
            problems.add(where + ": list field or prev link wrong");
        }
        int objects = cache.objectsPerSlab();
        int inuse = header.inuse(slab);
        int expectedList = inuse == 0 ? LIST_EMPTY : inuse == objects ? LIST_FULL : LIST_PARTIAL;
        if (list != LIST_CURRENT && expectedList != list) {
            problems.add(where + ": " + inuse + "/" + objects + " in use but on list " + list);
        }
        int allocatedBits = 0;
        for (int i = 0; i < objects; i++) {
            if (header.isAllocated(slab, i)) {
                allocatedBits++;
            }
        }
        if (allocatedBits != inuse) {
            problems.add(where + ": bitmap marks " + allocatedBits + " objects, inuse is " + inuse);
        }
        checkFreelist(root, cache, slab, where, problems, objects, inuse);
    }

    private static void checkFreelist(MmRoot root, KmemCache cache, long slab, String where, List<String> problems,
                                      int objects, int inuse) {
        GuestRam ram = root.ram();
        SlabHeader header = new SlabHeader(ram);
        Set<Integer> free = new HashSet<>();
        for (long object = header.freelist(slab); object != 0; ) {
            long phys = root.physicalOf(VirtAddr.of(object)).map(PhysAddr::value).orElse(-1L);
            long offset = phys - slab - cache.firstObject();
            if (phys < 0 || offset < 0 || offset % cache.stride() != 0 || offset / cache.stride() >= objects) {
                problems.add(where + String.format(": freelist holds V0x%x, not an object of this slab", object));
                return;
            }
            int index = (int) (offset / cache.stride());
            if (!free.add(index)) {
                problems.add(where + ": freelist visits object " + index + " twice");
                return;
            }
            if (header.isAllocated(slab, index)) {
                problems.add(where + ": object " + index + " is on the freelist but marked allocated");
            }
            object = ram.read64(phys + cache.freePointerOffset());
        }
        if (free.size() != objects - inuse) {
            problems.add(where + ": freelist holds " + free.size() + " objects, expected " + (objects - inuse));
        }
    }
}
