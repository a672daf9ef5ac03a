package dev.kemu.debug;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.PageWalk;
import dev.kemu.machine.PagingFormat;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Top-level entries that point to the top-level table itself: 32-bit kernels' "mirroring" PD entry
 * (often 1023) and long mode's recursive PML4 (or PML5) slot. Through such an entry the MMU walks
 * the top table once more as the next level, so every paging structure appears somewhere in a window
 * of linear addresses: with slot r, the page tables in the window whose top index is r, the tables
 * one level up where the next index is r too, and so on up to the top table itself.
 *
 * <p>PAE has no such trick at its top (the PDPT is 32 bytes, not a page); a PD entry naming a PD
 * is not recognised.
 */
final class RecursiveMappings {
    private final PagingFormat format;
    private final long root;
    private final List<Integer> slots;

    private RecursiveMappings(PagingFormat format, long root, List<Integer> slots) {
        this.format = format;
        this.root = root;
        this.slots = slots;
    }

    /** The recursive entries of the top-level table at CR3, in {@code format}'s terms (none without paging or in PAE). */
    static RecursiveMappings find(GuestRam ram, long cr3, PagingFormat format) {
        int top = format.topLevel();
        long root = cr3 & (format == PagingFormat.BITS_32 ? 0xffff_f000L : PageTableEntry.ADDRESS_MASK);
        List<Integer> slots = new ArrayList<>();
        if (format == PagingFormat.NONE || format == PagingFormat.PAE || !ram.contains(root, 4096)) {
            return new RecursiveMappings(format, root, slots);
        }
        for (int i = 0; i < format.entries(top); i++) {
            long entry = format.entryBytes() == 4 ? ram.read32(root + 4L * i) & 0xffff_ffffL : ram.read64(root + 8L * i);
            boolean present = (entry & PageTableEntry.PRESENT) != 0, large = (entry & PageTableEntry.HUGE) != 0;
            if (present && !large && (entry & PageTableEntry.ADDRESS_MASK) == root) {
                slots.add(i);
            }
        }
        return new RecursiveMappings(format, root, slots);
    }

    /** One line per recursive entry: e.g. "PD entry 1023 maps the page directory itself: page tables at V0xffc00000-V0xffffffff, ...". */
    List<String> describe() {
        List<String> lines = new ArrayList<>();
        int top = format.topLevel();
        for (int slot : slots) {
            StringBuilder line = new StringBuilder(String.format("recursive mapping: %s entry %d maps the %s itself: ",
                    PageWalk.levelName(top), slot, tableName(top)));
            for (int depth = 1; depth < top; depth++) {
                long start = windowStart(slot, depth);
                line.append(String.format("%s at %s-%s, ", plural(depth), format.format(start),
                        format.format(start + format.pageSize(top - depth + 1) - 1)));
            }
            line.append(String.format("the %s at %s", tableName(top), format.format(windowStart(slot, top))));
            lines.add(line.toString());
        }
        return lines;
    }

    /** What {@code va} shows when it lies in a recursive window: "the page table for V0x00400000-V0x007fffff, entry 3 (V0x00403000)". */
    Optional<String> explain(long va) {
        int top = format.topLevel();
        for (int slot : slots) {
            int depth = 0;
            while (depth < top && format.index(va, top - depth) == slot) {
                depth++;
            }
            if (depth == 0) {
                continue;
            }
            // The indices after the recursive ones name the table; its own index is the offset in the page.
            long region = 0;
            for (int k = 0; k < top - depth; k++) {
                region |= (long) format.index(va, top - depth - k) << format.shift(top - k);
            }
            int entry = (int) ((va & 0xfff) / format.entryBytes());
            long mapsAt = signExtend(region | (long) entry << format.shift(depth));
            String table = depth == top ? String.format("the %s itself (P0x%x)", tableName(top), root)
                    : String.format("the %s for %s-%s", tableName(depth), format.format(signExtend(region)),
                            format.format(signExtend(region) + format.pageSize(depth + 1) - 1));
            return Optional.of(String.format("%s, seen through the recursive %s entry %d; offset 0x%x is its entry %d, "
                    + "for %s", table, PageWalk.levelName(top), slot, va & 0xfff, entry, format.format(mapsAt)));
        }
        return Optional.empty();
    }

    /** The first address whose top {@code depth} indices are all {@code slot}. */
    private long windowStart(int slot, int depth) {
        long start = 0;
        for (int k = 0; k < depth; k++) {
            start |= (long) slot << format.shift(format.topLevel() - k);
        }
        return signExtend(start);
    }

    private long signExtend(long va) {
        int unused = 64 - format.linearBits();
        return format.is32Bit() ? va : va << unused >> unused;
    }

    private String tableName(int level) {
        return switch (level) {
            case 1 -> "page table";
            case 2 -> "page directory";
            default -> PageWalk.levelName(level);
        };
    }

    private String plural(int level) {
        return level == 2 ? "page directories" : tableName(level) + "s";
    }
}
