package dev.kemu.kernel.slab;

import dev.kemu.kernel.mm.FrameTable;
import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.MmRoot;
import dev.kemu.machine.GuestRam;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.kemu.kernel.mm.MmLayout.PAGE;
import static dev.kemu.kernel.slab.CacheLayout.*;

/** Walks every cache, slab list, freelist and bitmap in guest RAM and lists inconsistencies. */
public final class SlabChecker {
    private SlabChecker() {}

    public static List<String> check(MmRoot root) {
        List<String> problems = new ArrayList<>();
        GuestRam ram = root.ram();
        FrameTable frames = FrameTable.of(root);
        Set<Long> slabsSeen = new HashSet<>();
        for (int id = 0; id < root.cacheCapacity(); id++) {
            KmemCache cache = KmemCache.of(root, id);
            if (!cache.active()) {
                continue;
            }
            long active = 0, total = 0;
            for (int list = LIST_PARTIAL; list <= LIST_EMPTY; list++) {
                int count = 0;
                long prev = 0;
                for (long slab = cache.listHead(list); slab != 0; slab = ram.read64(slab + S_NEXT)) {
                    String where = String.format("cache %s slab P0x%x", cache.name(), slab);
                    if (!slabsSeen.add(slab) || count > frames.frames()) {
                        problems.add(where + ": listed twice or the list loops");
                        break;
                    }
                    checkSlab(root, cache, slab, list, prev, where, problems);
                    int inuse = ram.read32(slab + S_INUSE);
                    active += inuse;
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
                if (!slabsSeen.add(current)) {
                    problems.add(where + ": also on a list");
                } else {
                    checkSlab(root, cache, current, LIST_CURRENT, -1, where, problems);
                    active += ram.read32(current + S_INUSE);
                    total += cache.objectsPerSlab();
                }
            }
            if (active != cache.activeObjects() || total != cache.totalObjects()) {
                problems.add(String.format("cache %s: slabs hold %d/%d objects, the cache counts %d/%d", cache.name(),
                        active, total, cache.activeObjects(), cache.totalObjects()));
            }
        }
        for (long pfn = 0; pfn < frames.frames(); pfn++) {
            if (frames.type(pfn) == FrameType.SLAB && frames.isHead(pfn) && !slabsSeen.contains(pfn * PAGE)) {
                problems.add(String.format("slab frame P0x%x is on no cache's list (leaked)", pfn * PAGE));
            }
        }
        return problems;
    }

    private static void checkSlab(MmRoot root, KmemCache cache, long slab, int list, long prev, String where,
                                  List<String> problems) {
        GuestRam ram = root.ram();
        FrameTable frames = FrameTable.of(root);
        long pfn = slab / PAGE;
        if (ram.read32(slab + S_MAGIC) != SLAB_MAGIC || ram.read32(slab + S_CACHE) != cache.id()) {
            problems.add(where + ": bad magic or cache id");
            return;
        }
        if (frames.type(pfn) != FrameType.SLAB || !frames.isHead(pfn) || frames.order(pfn) != cache.slabOrder()
                || frames.tag(pfn) != cache.id()) {
            problems.add(where + ": frame table says " + frames.type(pfn) + " order " + frames.order(pfn) + " tag "
                    + frames.tag(pfn));
        }
        if (ram.read32(slab + S_LIST) != list || (list != LIST_CURRENT && ram.read64(slab + S_PREV) != prev)) {
            problems.add(where + ": list field or prev link wrong");
        }
        int objects = cache.objectsPerSlab();
        int inuse = ram.read32(slab + S_INUSE);
        int expectedList = inuse == 0 ? LIST_EMPTY : inuse == objects ? LIST_FULL : LIST_PARTIAL;
        if (list != LIST_CURRENT && expectedList != list) {
            problems.add(where + ": " + inuse + "/" + objects + " in use but on list " + list);
        }
        int allocatedBits = 0;
        for (int i = 0; i < objects; i++) {
            if ((ram.read8(slab + S_BITMAP + i / 8) & (1 << (i % 8))) != 0) {
                allocatedBits++;
            }
        }
        if (allocatedBits != inuse) {
            problems.add(where + ": bitmap marks " + allocatedBits + " objects, inuse is " + inuse);
        }
        Set<Integer> free = new HashSet<>();
        for (long object = ram.read64(slab + S_FREELIST); object != 0; ) {
            long phys = root.toPhysical(object);
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
            if ((ram.read8(slab + S_BITMAP + index / 8) & (1 << (index % 8))) != 0) {
                problems.add(where + ": object " + index + " is on the freelist but marked allocated");
            }
            object = ram.read64(phys);
        }
        if (free.size() != objects - inuse) {
            problems.add(where + ": freelist holds " + free.size() + " objects, expected " + (objects - inuse));
        }
    }
}
