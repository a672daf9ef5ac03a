package dev.kemu.machine;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Walks 4-level x86-64 page tables in guest RAM, as the MMU would, without touching A/D bits. */
public final class PageWalker {
    private final GuestRam ram;

    public PageWalker(GuestRam ram) {
        this.ram = ram;
    }

    public PageWalk walk(long cr3, VirtAddr address) {
        PhysAddr root = PhysAddr.of(cr3 & PageTableEntry.ADDRESS_MASK);
        List<PageWalk.Level> levels = new ArrayList<>(4);
        if (!address.isCanonical()) {
            return stopped(address, root, levels, "non-canonical address (bits 63..47 differ)");
        }
        PhysAddr table = root;
        for (int level = 4; level >= 1; level--) {
            int index = address.index(level);
            long entryAddress = table.value() + index * 8L;
            if (!ram.contains(entryAddress, 8)) {
                return stopped(address, root, levels, String.format("%s table %s lies outside guest RAM",
                        PageWalk.levelName(level), table));
            }
            PageTableEntry entry = new PageTableEntry(ram.read64(entryAddress));
            levels.add(new PageWalk.Level(level, table, index, entry));
            if (!entry.present()) {
                return stopped(address, root, levels, String.format("%s entry %d not present", PageWalk.levelName(level),
                        index));
            }
            boolean leaf = level == 1 || ((level == 2 || level == 3) && entry.huge());
            if (leaf) {
                long pageSize = 1L << (12 + 9 * (level - 1));
                PhysAddr frame = level == 1 ? entry.address() : entry.hugeFrame(pageSize);
                PhysAddr physical = frame.plus(address.value() & (pageSize - 1));
                return new PageWalk(address, root, List.copyOf(levels), Optional.of(physical), pageSize, "");
            }
            if (entry.huge()) {
                return stopped(address, root, levels, "PS bit set in a PML4 entry (reserved)");
            }
            table = entry.address();
        }
        throw new AssertionError("unreachable: the walk ends at level 1");
    }

    /**
     * The physical address of {@code va}, or -1 when it is not mapped: the walk without the
     * record of levels, allocation-free for hot paths.
     */
    public long translate(long cr3, long va) {
        if ((va >> 47) != 0 && (va >> 47) != -1) {
            return -1;
        }
        long table = cr3 & PageTableEntry.ADDRESS_MASK;
        for (int level = 4; level >= 1; level--) {
            long entryAddress = table + ((va >>> (12 + 9 * (level - 1))) & 0x1ff) * 8;
            if (!ram.contains(entryAddress, 8)) {
                return -1;
            }
            long entry = ram.read64(entryAddress);
            if ((entry & PageTableEntry.PRESENT) == 0) {
                return -1;
            }
            if (level == 1 || ((level == 2 || level == 3) && (entry & PageTableEntry.HUGE) != 0)) {
                long pageMask = (1L << (12 + 9 * (level - 1))) - 1;
                return (entry & PageTableEntry.ADDRESS_MASK & ~pageMask) | (va & pageMask);
            }
            table = entry & PageTableEntry.ADDRESS_MASK;
        }
        return -1;
    }

    /** Every paging structure reachable from {@code cr3} (the PML4 first), as physical addresses. */
    public List<Long> tables(long cr3) {
        List<Long> tables = new ArrayList<>();
        collectTables(cr3 & PageTableEntry.ADDRESS_MASK, 4, tables);
        return tables;
    }

    private void collectTables(long table, int level, List<Long> out) {
        if (!ram.contains(table, 4096) || out.contains(table)) {
            return;
        }
        out.add(table);
        for (int i = 0; i < 512 && level > 1; i++) {
            long entry = ram.read64(table + i * 8L);
            // A PS bit at levels 3 and 2 makes the entry a huge page, not a table.
            if ((entry & PageTableEntry.PRESENT) != 0 && (level == 4 || (entry & PageTableEntry.HUGE) == 0)) {
                collectTables(entry & PageTableEntry.ADDRESS_MASK, level - 1, out);
            }
        }
    }

    private static PageWalk stopped(VirtAddr address, PhysAddr root, List<PageWalk.Level> levels, String reason) {
        return new PageWalk(address, root, List.copyOf(levels), Optional.empty(), 0, reason);
    }
}
