package dev.kemu.testing;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.Machine;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.PageWalk;
import dev.kemu.machine.VirtAddr;

import java.util.List;

/**
 * Sets the accessed bit on every entry that maps the harness's snippet areas, and the dirty bit on
 * their leaves, before the snapshot: as the MMU would after a first fetch and store there. A
 * snippet's run then leaves the page tables as the snapshot has them, so a reset need neither copy
 * them back nor flush the TLB, and the next run finds its translations still cached. Only 4-level
 * entries are touched (the areas exist only there); an unmapped page is the caller's error.
 */
final class PreTouchedMappings {
    private static final long PAGE = 4096;
    private static final long ACCESSED = PageTableEntry.ACCESSED;
    private static final long ACCESSED_DIRTY = PageTableEntry.ACCESSED | PageTableEntry.DIRTY;

    private PreTouchedMappings() {
    }

    /** Marks the walk to every page of {@code [va, va + size)} touched in the tables under {@code cr3}. */
    static void mark(Machine machine, long cr3, long va, long size) {
        GuestRam ram = machine.ram();
        for (long offset = 0; offset < size; offset += PAGE) {
            PageWalk walk = machine.pageWalker().walk(cr3, VirtAddr.of(va + offset));
            if (!walk.mapped()) {
                throw new IllegalStateException(String.format("the harness area page V0x%x is not mapped: %s",
                        va + offset, walk.stopReason()));
            }
            List<PageWalk.Level> levels = walk.levels();
            for (int i = 0; i < levels.size(); i++) {
                PageWalk.Level level = levels.get(i);
                long bits = i == levels.size() - 1 ? ACCESSED_DIRTY : ACCESSED;
                long entry = level.entry().raw();
                if (level.entryBytes() == 8 && (entry & bits) != bits) {
                    ram.write64(level.entryAddress().value(), entry | bits);
                }
            }
        }
        machine.flushTlb(); // entries cached before carry the old bits
    }
}
