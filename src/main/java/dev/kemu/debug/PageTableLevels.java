package dev.kemu.debug;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PageTableEntry;

import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * Finds which level a page-table frame serves by walking 4-level tables down from a PML4: the frame
 * table only says "page table", the level is where the tree reaches it (as Linux's page-table pages
 * carry no level either). Large pages (PS set in a PDPT or PD entry) end the descent.
 */
final class PageTableLevels {
    static final String[] NAMES = {"PT", "PD", "PDPT", "PML4"};

    private PageTableLevels() {}

    /** The level's name ("PD") and the entry that points at {@code frame}, or empty when the tree does not reach it. */
    static Optional<String> levelOf(GuestRam ram, long pml4, long frame) {
        return search(ram, pml4 & PageTableEntry.ADDRESS_MASK, 3, frame, new HashSet<>(), "");
    }

    private static Optional<String> search(GuestRam ram, long table, int level, long frame, Set<Long> seen, String via) {
        if (table == frame) {
            return Optional.of(NAMES[level] + via);
        }
        if (level == 0 || !seen.add(table) || table + 4096 > ram.size()) {
            return Optional.empty();
        }
        for (int i = 0; i < 512; i++) {
            long entry = ram.read64(table + 8L * i);
            if ((entry & PageTableEntry.PRESENT) == 0 || (level < 3 && (entry & PageTableEntry.HUGE) != 0)) {
                continue;
            }
            String next = String.format(" (%s entry %d of the %s at P0x%x)", NAMES[level], i, NAMES[level], table);
            Optional<String> found = search(ram, entry & PageTableEntry.ADDRESS_MASK, level - 1, frame, seen, next);
            if (found.isPresent()) {
                return found;
            }
        }
        return Optional.empty();
    }
}
