package dev.kemu.machine;

import java.util.List;

/** The reason for a page fault in words, naming the entry and the bit that decided it. */
final class FaultReasons {
    private FaultReasons() {}

    static String describe(AccessVerdict.Cause cause, List<PageWalk.Level> levels, Access access, PagingMode mode) {
        PageWalk.Level last = levels.getLast();
        List<PageWalk.Level> withRights = mode.format() == PagingFormat.PAE
                ? levels.stream().filter(l -> l.level() != 3).toList() : levels; // a PAE PDPTE has no W or U
        return switch (cause) {
            case NOT_PRESENT -> String.format("%s entry %d not present", last.tableName(), last.index());
            case RESERVED_BIT -> reservedBit(last, mode);
            case USER_ACCESS_TO_SUPERVISOR_PAGE -> "user-mode access to a supervisor page: U clear in the "
                    + culprit(withRights, e -> !e.user());
            case WRITE_TO_READ_ONLY -> "write to a read-only page" + (access.user() ? "" : " with CR0.WP set")
                    + ": W clear in the " + culprit(withRights, e -> !e.writable());
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
        PagingFormat format = mode.format();
        if (level.level() >= 4 && level.entry().huge()) {
            return "PS bit set in a " + level.tableName() + " entry (reserved): " + entry;
        }
        if (format == PagingFormat.BITS_32) {
            long bits = raw & LegacyPaging.largePageReserved(mode.maxPhysAddrBits());
            return String.format("reserved bit %d set in the %s: in a 4 MiB page (PS with CR4.PSE) bit 21 and the PSE-36 "
                    + "bits naming address bits at or above MAXPHYADDR (%d bits) must be zero",
                    Long.numberOfTrailingZeros(bits), entry, mode.maxPhysAddrBits());
        }
        if (format == PagingFormat.PAE && level.level() == 3 && (raw & LegacyPaging.PDPTE_RESERVED) != 0) {
            return String.format("reserved bit %d set in the %s: bits 63..52 of a PAE PDPTE are reserved (it has no NX)",
                    63 - Long.numberOfLeadingZeros(raw & LegacyPaging.PDPTE_RESERVED), entry);
        }
        if (format == PagingFormat.PAE && (raw & LegacyPaging.PAE_HIGH_RESERVED) != 0 && level.level() < 3) {
            return String.format("reserved bit %d set in the %s: bits 62..52 of a PAE entry are reserved",
                    63 - Long.numberOfLeadingZeros(raw & LegacyPaging.PAE_HIGH_RESERVED), entry);
        }
        long aboveMaxPhys = mode.reservedBits() & PageTableEntry.ADDRESS_MASK & raw;
        if (aboveMaxPhys != 0) {
            return String.format("reserved address bit %d set (above MAXPHYADDR, %d bits) in the %s",
                    Long.numberOfTrailingZeros(aboveMaxPhys), mode.maxPhysAddrBits(), entry);
        }
        if (!mode.noExecuteEnabled() && level.entry().noExecute()) {
            return "NX bit set while EFER.NXE is clear (then bit 63 is reserved) in the " + entry;
        }
        long pageSize = format.pageSize(level.level());
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
