package dev.kemu.kernel.mm;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;

import java.util.ArrayList;
import java.util.List;

import static dev.kemu.kernel.mm.MmLayout.*;

/** Formats the mm root and frame table from a memory map, and prints the physical map. */
public final class PhysicalMemory {
    /** Kernel slab caches the cache table can describe. */
    public static final int CACHE_CAPACITY = 64;
    public static final int EMPTY_SLABS_KEPT = 2;

    private PhysicalMemory() {}

    /**
     * Writes a fresh mm root at {@code rootPhys} (page aligned, usable RAM), the frame table
     * and the cache table right after it, types every frame and builds the free lists.
     *
     * @param usable frames the firmware says are RAM
     * @param used   ranges already in use (kernel image, boot data, page tables), with their type
     */
    public static MmRoot initialize(GuestRam ram, PhysAddr rootAddress, List<PhysRange> usable, List<PhysRange> used) {
        return initialize(ram, rootAddress, usable, used, NumaTopology.single());
    }

    /** {@link #initialize} with RAM in the NUMA nodes of {@code topology}: free lists per node and zone. */
    public static MmRoot initialize(GuestRam ram, PhysAddr rootAddress, List<PhysRange> usable, List<PhysRange> used,
                                    NumaTopology topology) {
        if (!rootAddress.isPageAligned()) {
            throw new IllegalArgumentException("mm root " + rootAddress + " is not page aligned; place it on a 4 KiB boundary");
        }
        long rootPhys = rootAddress.value();
        long frames = ram.size() / PAGE;
        long tableBytes = roundUp(frames * FRAME_ENTRY);
        long cacheTable = rootPhys + ROOT_SIZE + tableBytes;
        long metadataEnd = cacheTable + roundUp((long) CACHE_CAPACITY * dev.kemu.kernel.slab.CacheLayout.SIZE);
        if (metadataEnd > ram.size()) {
            throw new IllegalArgumentException("guest RAM too small for the memory manager's metadata");
        }
        ram.fill(rootPhys, metadataEnd - rootPhys, (byte) 0);
        MmRoot root = new MmRoot(ram, rootAddress);
        root.set(ROOT_MAGIC, MAGIC);
        root.set(ROOT_RAM, ram.size());
        root.set(ROOT_FRAME_TABLE, rootPhys + ROOT_SIZE);
        root.set(ROOT_NR_FRAMES, frames);
        root.set(ROOT_HHDM, DIRECT_MAP_BASE);
        root.set(ROOT_VMALLOC_START, VMALLOC_START);
        root.set(ROOT_VMALLOC_END, VMALLOC_END);
        root.set(ROOT_CACHE_TABLE, cacheTable);
        root.set32(ROOT_CACHE_CAPACITY, CACHE_CAPACITY);
        root.set32(ROOT_EMPTY_SLAB_LIMIT, EMPTY_SLABS_KEPT);
        for (int list = 0; list < FreeLists.COUNT; list++) {
            root.set32(ROOT_FREE_HEAD + 4 * list, NONE);
        }
        NumaNodes.write(root, topology, frames);
        FrameTable table = FrameTable.of(root);
        for (long pfn = 0; pfn < frames; pfn++) {
            table.markBlock(pfn, 0, FrameType.RESERVED);
        }
        for (PhysRange range : usable) {
            // Only whole frames inside the range are usable.
            for (long pfn = (range.start().value() + PAGE - 1) / PAGE; pfn < Math.min(frames, range.end().value() / PAGE); pfn++) {
                table.setType(pfn, FrameType.FREE);
            }
        }
        table.setType(0, FrameType.RESERVED); // the null page is never handed out
        List<PhysRange> allUsed = new ArrayList<>(used);
        allUsed.add(new PhysRange(PhysAddr.of(rootPhys), PhysAddr.of(metadataEnd), FrameType.MM_METADATA));
        for (PhysRange range : allUsed) {
            for (long pfn = range.start().value() / PAGE; pfn < Math.min(frames, (range.end().value() + PAGE - 1) / PAGE); pfn++) {
                table.setType(pfn, range.type());
            }
        }
        buildFreeLists(root, table);
        return root;
    }

    private static void buildFreeLists(MmRoot root, FrameTable table) {
        BuddyAllocator buddy = new BuddyAllocator(root);
        NumaNodes nodes = root.nodes();
        long free = 0;
        long pfn = 0;
        while (pfn < table.frames()) {
            if (table.type(pfn) != FrameType.FREE) {
                pfn++;
                continue;
            }
            int order = 0;
            int node = nodes.nodeOf(pfn);
            while (order < MAX_ORDER && (pfn & ((2L << order) - 1)) == 0 && allFree(table, pfn, 2L << order)
                    && nodes.nodeOf(pfn + (2L << order) - 1) == node) {
                order++;
            }
            table.markBlock(pfn, order, FrameType.FREE);
            buddy.push(buddy.listOf(pfn, order), pfn);
            free += 1L << order;
            pfn += 1L << order;
        }
        root.set(ROOT_FREE_FRAMES, free);
    }

    private static boolean allFree(FrameTable table, long start, long count) {
        if (start + count > table.frames()) {
            return false;
        }
        for (long pfn = start; pfn < start + count; pfn++) {
            if (table.type(pfn) != FrameType.FREE) {
                return false;
            }
        }
        return true;
    }

    /** The physical map: maximal runs of frames with the same type. */
    public static List<PhysRange> map(MmRoot root) {
        FrameTable table = FrameTable.of(root);
        List<PhysRange> ranges = new ArrayList<>();
        long start = 0;
        FrameType current = table.type(0);
        for (long pfn = 1; pfn <= table.frames(); pfn++) {
            FrameType type = pfn < table.frames() ? table.type(pfn) : null;
            if (type != current) {
                ranges.add(new PhysRange(PhysAddr.of(start * PAGE), PhysAddr.of(pfn * PAGE), current));
                start = pfn;
                current = type;
            }
        }
        return ranges;
    }

    static long roundUp(long bytes) {
        return (bytes + PAGE - 1) & -PAGE;
    }
}
