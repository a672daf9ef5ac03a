package dev.kemu.kernel.mm;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

import static dev.kemu.kernel.mm.MmLayout.PAGE;

/** Walks every table reachable from the kernel PML4 and compares it with the frame table. */
public final class PageTableChecker {
    /** A leaf mapping: {@code size} bytes at {@code va} to {@code pa}, with the leaf entry. */
    public record Leaf(VirtAddr va, PhysAddr pa, long size, PageTableEntry entry) {}

    private PageTableChecker() {}

    public static List<String> checkCounts(MmRoot root) {
        return checkCounts(root, List.of());
    }

    /** Compares the tables reachable from the kernel PML4 and {@code spaces}' PML4s with the frame table. */
    public static List<String> checkCounts(MmRoot root, List<PhysAddr> spaces) {
        List<String> problems = new ArrayList<>();
        FrameTable frames = FrameTable.of(root);
        Set<Long> reachable = new HashSet<>();
        visit(root.ram(), root.pml4().value(), 4, 0, reachable, null, problems);
        for (PhysAddr space : spaces) {
            visit(root.ram(), space.value(), 4, 0, reachable, null, problems);
        }
        int pageTable = FrameType.PAGE_TABLE.ordinal();
        for (long table : reachable) {
            long pfn = table / PAGE;
            if (frames.typeCode(pfn) != pageTable) {
                problems.add(String.format("table P0x%x is reachable from the PML4 but its frame type is %d, expected %d"
                        + " (PAGE_TABLE)", table, frames.typeCode(pfn), pageTable));
            } else if (frames.tag(pfn) != PageTables.presentEntries(root.ram(), table)) {
                problems.add(String.format("table P0x%x counts %d present entries, holds %d", table, frames.tag(pfn),
                        PageTables.presentEntries(root.ram(), table)));
            }
        }
        for (long pfn = 0; pfn < frames.frames(); pfn++) {
            if (frames.typeCode(pfn) == pageTable && !reachable.contains(pfn * PAGE)) {
                problems.add(String.format("page-table frame P0x%x is not reachable from the kernel's or any address space's PML4 (leaked)", pfn * PAGE));
            }
        }
        return problems;
    }

    /** Every leaf mapping reachable from {@code pml4}, by virtual address. */
    public static TreeMap<VirtAddr, Leaf> leaves(GuestRam ram, PhysAddr pml4) {
        TreeMap<VirtAddr, Leaf> leaves = new TreeMap<>();
        visit(ram, pml4.value(), 4, 0, new HashSet<>(), leaves, new ArrayList<>());
        return leaves;
    }

    private static void visit(GuestRam ram, long table, int level, long vaBase, Set<Long> tables,
                              TreeMap<VirtAddr, Leaf> leaves, List<String> problems) {
        if (table < 0 || table + PAGE > ram.size()) {
            // Entries hold guest-written addresses: one may point anywhere.
            problems.add(String.format("a level-%d entry for V0x%x points at table P0x%x, outside RAM", level + 1, vaBase,
                    table));
            return;
        }
        if (!tables.add(table)) {
            return;
        }
        long span = 1L << (12 + 9 * (level - 1));
        for (int i = 0; i < 512; i++) {
            PageTableEntry entry = new PageTableEntry(ram.read64(table + i * 8L));
            if (!entry.present()) {
                continue;
            }
            long va = vaBase + i * span;
            if (level == 4 && i >= 256) {
                va |= 0xffff_0000_0000_0000L; // sign-extend bit 47
            }
            if (level == 1 || (entry.huge() && level <= 3)) {
                if (leaves != null) {
                    PhysAddr pa = level == 1 ? entry.address() : entry.hugeFrame(span);
                    leaves.put(VirtAddr.of(va), new Leaf(VirtAddr.of(va), pa, span, entry));
                }
            } else {
                visit(ram, entry.address().value(), level - 1, va, tables, leaves, problems);
            }
        }
    }
}
