package dev.kemu.machine;

import java.util.List;
import java.util.Optional;

/**
 * The result of walking the page tables of one paging mode for one virtual address and one access:
 * each entry read, and the MMU's verdict (a physical address, a page fault, #GP).
 */
public record PageWalk(VirtAddr address, PhysAddr cr3, List<Level> levels, AccessVerdict verdict, PagingFormat format) {

    /** A walk of 4-level tables. */
    public PageWalk(VirtAddr address, PhysAddr cr3, List<Level> levels, AccessVerdict verdict) {
        this(address, cr3, levels, verdict, PagingFormat.FOUR_LEVEL);
    }

    /**
     * One visited paging-structure entry. {@code level} 5 = PML5, 4 = PML4, 3 = PDPT, 2 = PD, 1 = PT in
     * every mode; {@code entryBytes} is 4 in 32-bit paging (the entry's raw value is then zero-extended).
     */
    public record Level(int level, PhysAddr table, int index, PageTableEntry entry, int entryBytes) {
        /** An 8-byte entry. */
        public Level(int level, PhysAddr table, int index, PageTableEntry entry) {
            this(level, table, index, entry, 8);
        }

        public String tableName() {
            return levelName(level);
        }

        public PhysAddr entryAddress() {
            return table.plus((long) index * entryBytes);
        }

        /** The raw entry in hex, 8 digits for a 4-byte entry and 16 for an 8-byte one. */
        public String rawHex() {
            return entryBytes == 4 ? String.format("0x%08x", entry.raw()) : String.format("0x%016x", entry.raw());
        }
    }

    public static String levelName(int level) {
        return switch (level) {
            case 5 -> "PML5";
            case 4 -> "PML4";
            case 3 -> "PDPT";
            case 2 -> "PD";
            case 1 -> "PT";
            default -> "level " + level;
        };
    }

    /** Whether the access reaches a page. */
    public boolean mapped() {
        return verdict instanceof AccessVerdict.Allowed;
    }

    public Optional<PhysAddr> physical() {
        return verdict instanceof AccessVerdict.Allowed allowed ? Optional.of(allowed.physical()) : Optional.empty();
    }

    /** 4 KiB, 2 MiB or 1 GiB when mapped, otherwise 0. */
    public long pageSize() {
        return verdict instanceof AccessVerdict.Allowed allowed ? allowed.pageSize() : 0;
    }

    /** Why the access does not reach a page, or "" when it does. */
    public String stopReason() {
        return verdict.reason();
    }

    /** Writable only if every level allows writes. */
    public boolean writable() {
        return mapped() && levels.stream().filter(this::grantsRights).allMatch(l -> l.entry().writable());
    }

    public boolean user() {
        return mapped() && levels.stream().filter(this::grantsRights).allMatch(l -> l.entry().user());
    }

    public boolean executable() {
        return mapped() && levels.stream().noneMatch(l -> l.entry().noExecute());
    }

    /** Whether the entry's R/W and U/S bits take part in the rights: not in a PAE PDPTE, which has none. */
    public boolean grantsRights(Level level) {
        return !isPaePdpte(level);
    }

    private boolean isPaePdpte(Level level) {
        return format == PagingFormat.PAE && level.level() == 3;
    }

    /** The entry's flags in words; a PAE PDPTE has only P, PWT and PCD. */
    public String flags(Level level) {
        if (!isPaePdpte(level) || !level.entry().present()) {
            return level.entry().flagString();
        }
        long raw = level.entry().raw();
        return "P" + ((raw & PageTableEntry.WRITE_THROUGH) != 0 ? " PWT" : "")
                + ((raw & PageTableEntry.CACHE_DISABLE) != 0 ? " PCD" : "");
    }

    /** A multi-line description: one line per level, then the outcome. */
    public String describe() {
        StringBuilder text = new StringBuilder();
        text.append(String.format("page walk of %s (%s, CR3 %s)%n", format.format(address.value()), format.title(),
                cr3));
        for (Level level : levels) {
            text.append(String.format("  %-4s %s[%4d] @ %s = %s [%s]%n", level.tableName(), level.table(), level.index(),
                    level.entryAddress(), level.rawHex(), flags(level)));
        }
        if (mapped()) {
            text.append(String.format("  -> %s (%s page, %s%s%s)%n", physical().get(), sizeName(pageSize()),
                    writable() ? "writable" : "read-only", user() ? ", user" : ", supervisor",
                    executable() ? "" : ", no-execute"));
        } else {
            text.append("  stopped: ").append(stopReason()).append(System.lineSeparator());
        }
        return text.toString();
    }

    /** "4 KiB", "2 MiB", "4 MiB" or "1 GiB": the name of a page size, for walks and fault reports. */
    public static String sizeName(long pageSize) {
        return pageSize >= (1L << 30) ? "1 GiB" : pageSize >= (1L << 22) ? "4 MiB"
                : pageSize >= (1L << 21) ? "2 MiB" : "4 KiB";
    }
}
