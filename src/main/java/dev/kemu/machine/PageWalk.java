package dev.kemu.machine;

import java.util.List;
import java.util.Optional;

/**
 * The result of walking the 4-level page tables for one virtual address and one access: each
 * entry read, and the MMU's verdict (a physical address, a page fault, #GP).
 */
public record PageWalk(VirtAddr address, PhysAddr cr3, List<Level> levels, AccessVerdict verdict) {

    /** One visited paging-structure entry. {@code level} 4 = PML4 ... 1 = PT. */
    public record Level(int level, PhysAddr table, int index, PageTableEntry entry) {
        public String tableName() {
            return levelName(level);
        }

        public PhysAddr entryAddress() {
            return table.plus(index * 8L);
        }
    }

    public static String levelName(int level) {
        return switch (level) {
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
        return mapped() && levels.stream().allMatch(l -> l.entry().writable());
    }

    public boolean user() {
        return mapped() && levels.stream().allMatch(l -> l.entry().user());
    }

    public boolean executable() {
        return mapped() && levels.stream().noneMatch(l -> l.entry().noExecute());
    }

    /** A multi-line description: one line per level, then the outcome. */
    public String describe() {
        StringBuilder text = new StringBuilder();
        text.append(String.format("page walk of %s (CR3 %s)%n", address, cr3));
        for (Level level : levels) {
            text.append(String.format("  %-4s %s[%3d] @ %s = %s%n", level.tableName(), level.table(), level.index(),
                    level.entryAddress(), level.entry()));
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

    /** "4 KiB", "2 MiB" or "1 GiB": the name of a page size, for walks and fault reports. */
    public static String sizeName(long pageSize) {
        return pageSize >= (1L << 30) ? "1 GiB" : pageSize >= (1L << 21) ? "2 MiB" : "4 KiB";
    }
}
