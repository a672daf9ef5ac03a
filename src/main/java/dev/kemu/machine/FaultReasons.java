package dev.kemu.machine;

import java.util.List;

/** The reason for a page fault in words, naming the entry and the bit that decided it. */
final class FaultReasons {
    private FaultReasons() {}

    static String describe(AccessVerdict.Cause cause, List<PageWalk.Level> levels, Access access, PagingMode mode) {
        PageWalk.Level last = levels.getLast();
        return switch (cause) {
            case NOT_PRESENT -> String.format("%s entry %d not present", last.tableName(), last.index());
            case RESERVED_BIT -> reservedBit(last, mode);
            case USER_ACCESS_TO_SUPERVISOR_PAGE -> "user-mode access to a supervisor page: U clear in the "
                    + culprit(levels, e -> !e.user());
            case WRITE_TO_READ_ONLY -> "write to a read-only page" + (access.user() ? "" : " with CR0.WP set")
                    + ": W clear in the " + culprit(levels, e -> !e.writable());
            case FETCH_FROM_NO_EXECUTE -> "instruction fetch from a no-execute page: NX set in the "
                    + culprit(levels, PageTableEntry::noExecute);
            case SMEP -> "supervisor instruction fetch from a user page with CR4.SMEP set (U set at every level, last "
                    + where(last) + ")";
            case SMAP -> "supervisor data access to a user page with CR4.SMAP set and RFLAGS.AC clear (U set at every "
                    + "level, last " + where(last) + ")";
        };
    }

    private static String reservedBit(PageWalk.Level level, PagingMode mode) {
        long raw = level.entry().raw();
        String entry = level.tableName() + " entry " + level.index() + " (" + where(level) + ")";
        if (level.level() == 4 && level.entry().huge()) {
            return "PS bit set in a PML4 entry (reserved): " + entry;
        }
        long aboveMaxPhys = mode.reservedBits() & PageTableEntry.ADDRESS_MASK & raw;
        if (aboveMaxPhys != 0) {
            return String.format("reserved address bit %d set (above MAXPHYADDR, %d bits) in the %s",
                    Long.numberOfTrailingZeros(aboveMaxPhys), mode.maxPhysAddrBits(), entry);
        }
        if (!mode.noExecuteEnabled() && level.entry().noExecute()) {
            return "NX bit set while EFER.NXE is clear (then bit 63 is reserved) in the " + entry;
        }
        long pageSize = 1L << (12 + 9 * (level.level() - 1));
        return String.format("reserved bit set in the %s: address bits %d..13 of a %s page must be zero", entry,
                Long.numberOfTrailingZeros(pageSize) - 1, PageWalk.sizeName(pageSize));
    }

    private static String culprit(List<PageWalk.Level> levels, java.util.function.Predicate<PageTableEntry> guilty) {
        for (PageWalk.Level level : levels) {
            if (guilty.test(level.entry())) {
                return level.tableName() + " entry " + level.index() + " (" + where(level) + ")";
            }
        }
        throw new IllegalStateException("no entry in the walk explains the fault: " + levels);
    }

    private static String where(PageWalk.Level level) {
        return "at " + level.entryAddress() + " = " + String.format("0x%x", level.entry().raw());
    }
}
