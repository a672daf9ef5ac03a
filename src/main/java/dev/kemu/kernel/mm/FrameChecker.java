package dev.kemu.kernel.mm;

import dev.kemu.machine.PhysAddr;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.kemu.kernel.mm.MmLayout.*;

/**
 * Walks the frame table and the buddy free lists in guest RAM and lists every inconsistency
 * (empty list = consistent). For tests and for {@code kemu} diagnostics; it changes nothing.
 * Everything it reads is guest memory, so it never trusts a value to index or to bound a
 * loop: a frame number outside the table, an unknown type byte or an order above
 * {@link MmLayout#MAX_ORDER} is a finding, not an exception.
 */
public final class FrameChecker {
    private FrameChecker() {}

    public static List<String> check(MmRoot root) {
        List<String> problems = new ArrayList<>(rootProblems(root));
        if (!problems.isEmpty()) {
            return problems; // without a sound root, nothing else can be located
        }
        FrameTable table = FrameTable.of(root);
        for (long pfn = 0; pfn < table.frames(); pfn++) {
            int code = table.typeCode(pfn);
            if (code >= FrameType.values().length) {
                problems.add(String.format("frame 0x%x: type byte %d at P0x%x is no frame type (0..%d expected)", pfn,
                        code, table.base().value() + pfn * FRAME_ENTRY, FrameType.values().length - 1));
            }
        }
        if (!problems.isEmpty()) {
            return problems;
        }
        Set<Long> listed = new HashSet<>();
        checkFreeLists(root, table, listed, problems);
        checkBlocks(table, listed, problems);
        return problems;
    }

    /** What makes the mm root unusable for locating the rest: magic, sizes, tables outside RAM. */
    public static List<String> rootProblems(MmRoot root) {
        List<String> problems = new ArrayList<>();
        long size = root.ram().size();
        long rootPhys = root.phys().value();
        if (rootPhys < 0 || rootPhys + ROOT_SIZE > size) {
            problems.add(String.format("mm root %s is not a page inside RAM", root.phys()));
            return problems;
        }
        if (root.get(ROOT_MAGIC) != MAGIC) {
            problems.add(String.format("mm root %s: magic 0x%x, expected 0x%x", root.phys(), root.get(ROOT_MAGIC), MAGIC));
        }
        if (root.ramBytes() != size || root.frameCount() != size / PAGE) {
            problems.add(String.format("mm root %s: states %d RAM bytes and %d frames, expected %d and %d", root.phys(),
                    root.ramBytes(), root.frameCount(), size, size / PAGE));
        }
        long frameTable = root.frameTable().value();
        if (frameTable < 0 || frameTable > size - (size / PAGE) * FRAME_ENTRY) {
            problems.add(String.format("mm root %s: frame table P0x%x does not fit in RAM", root.phys(), frameTable));
        }
        long cacheTable = root.cacheTable().value();
        if (cacheTable < 0 || cacheTable >= size) {
            problems.add(String.format("mm root %s: cache table P0x%x is outside RAM", root.phys(), cacheTable));
        }
        int nodes = root.get32(ROOT_NODE_COUNT);
        if (nodes < 1 || nodes > MAX_NODES) {
            problems.add(String.format("mm root %s: counts %d NUMA nodes, expected 1..%d", root.phys(), nodes, MAX_NODES));
        }
        return problems;
    }

    private static void checkFreeLists(MmRoot root, FrameTable table, Set<Long> listed, List<String> problems) {
        long freeFrames = 0;
        NumaNodes nodes = root.nodes();
        for (int list = 0; list < FreeLists.COUNT; list++) {
            int order = FreeLists.order(list);
            String name = FreeLists.name(list);
            int count = 0;
            int prev = NONE;
            for (int at = root.freeHead(list); at != NONE; at = table.next(Integer.toUnsignedLong(at))) {
                long pfn = Integer.toUnsignedLong(at);
                if (pfn >= table.frames() || count > table.frames()) {
                    problems.add("free list " + name + " runs off the table or loops at frame " + pfn);
                    break;
                }
                if (table.type(pfn) != FrameType.FREE || !table.isHead(pfn) || table.order(pfn) != order) {
                    problems.add(String.format("free list %s holds frame 0x%x of type %s order %d head %s", name, pfn,
                            table.type(pfn), table.order(pfn), table.isHead(pfn)));
                }
                if (nodes.nodeOf(pfn) != FreeLists.node(list) || Zone.of(PhysAddr.of(pfn * PAGE)) != FreeLists.zone(list)
                        || nodes.nodeOf(pfn + (1L << order) - 1) != FreeLists.node(list)) {
                    problems.add(String.format("free list %s holds block 0x%x of node %d zone %s", name, pfn,
                            nodes.nodeOf(pfn), Zone.of(PhysAddr.of(pfn * PAGE))));
                }
                if (table.prev(pfn) != prev) {
                    problems.add(String.format("free list %s: frame 0x%x prev is 0x%x, expected 0x%x", name, pfn,
                            table.prev(pfn), prev));
                }
                if ((pfn & ((1L << order) - 1)) != 0) {
                    problems.add(String.format("free block 0x%x of order %d is misaligned", pfn, order));
                }
                if (order < MAX_ORDER) {
                    long buddy = pfn ^ (1L << order);
                    if (buddy < table.frames() && table.type(buddy) == FrameType.FREE && table.isHead(buddy)
                            && table.order(buddy) == order && nodes.nodeOf(buddy) == nodes.nodeOf(pfn)) {
                        problems.add(String.format("free buddies 0x%x and 0x%x of order %d were not merged", pfn, buddy,
                                order));
                    }
                }
                listed.add(pfn);
                freeFrames += 1L << order;
                prev = at;
                count++;
            }
            if (count != root.freeCount(list)) {
                problems.add("free list " + name + " has " + count + " blocks, the root counts " + root.freeCount(list));
            }
        }
        if (freeFrames != root.freeFrames()) {
            problems.add("free lists hold " + freeFrames + " frames, the root counts " + root.freeFrames());
        }
    }

    private static void checkBlocks(FrameTable table, Set<Long> listed, List<String> problems) {
        for (long pfn = 0; pfn < table.frames(); pfn++) {
            if (!table.isHead(pfn)) {
                problems.add(String.format("frame 0x%x belongs to no block", pfn));
                continue;
            }
            FrameType type = table.type(pfn);
            if (type == FrameType.FREE && !listed.contains(pfn)) {
                problems.add(String.format("free block at frame 0x%x is on no free list", pfn));
            }
            int order = table.order(pfn);
            if (order > MAX_ORDER) {
                problems.add(String.format("frame 0x%x heads a block of order %d, expected 0..%d", pfn, order, MAX_ORDER));
                continue;
            }
            for (long tail = pfn + 1; tail < pfn + (1L << order) && tail < table.frames(); tail++) {
                // Tails of free blocks keep stale tags (only heads change on split and merge).
                if (table.isHead(tail) || table.type(tail) != type
                        || (type != FrameType.FREE && table.tag(tail) != (int) pfn)) {
                    problems.add(String.format("frame 0x%x should be a %s tail of block 0x%x (order %d)", tail, type,
                            pfn, order));
                }
            }
            pfn += (1L << order) - 1;
        }
    }
}
