package dev.kemu.machine;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The entries of one page-table page that the MMU may still change without a store any hook sees.
 * A page walk only ever sets the accessed bit of a present entry, and the dirty bit of a present
 * leaf, and only when they are clear (QEMU's {@code get_physical_address}); an entry that is not
 * present, or has both bits set, stays as it is until a guest or host store, which the dirty
 * tracker sees. So a restore that finds those few entries equal to the snapshot's copy need not
 * compare the rest of the page. Only 4-level long-mode tables have this uniform 8-byte format;
 * for other modes, and pages where most entries are still open, the whole page is compared.
 * Knowing the tables unchanged also tells the restore that the TLB still holds only walks of them.
 */
final class MmuWritableEntries {
    /** Beyond this many open entries a vectorised compare of the whole page is as cheap. */
    private static final int LIMIT = 32;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final long SETTLED = PageTableEntry.ACCESSED | PageTableEntry.DIRTY;

    private final long[] offsets; // null: compare the whole page

    private MmuWritableEntries(long[] offsets) {
        this.offsets = offsets;
    }

    /** The open entries of the table at {@code table} in {@code copy}; whole-page comparison unless {@code fourLevel}. */
    static MmuWritableEntries of(MemorySegment copy, long table, boolean fourLevel) {
        if (!fourLevel) {
            return new MmuWritableEntries(null);
        }
        long[] open = new long[LIMIT];
        int count = 0;
        for (long offset = 0; offset < Snapshot.PAGE; offset += 8) {
            long entry = copy.get(U64, table + offset);
            if ((entry & PageTableEntry.PRESENT) != 0 && (entry & SETTLED) != SETTLED) {
                if (count == LIMIT) {
                    return new MmuWritableEntries(null);
                }
                open[count++] = offset;
            }
        }
        return new MmuWritableEntries(Arrays.copyOf(open, count));
    }

    /**
     * Whether the table at {@code table} differs between {@code ram} and {@code copy}, for a table that no store
     * changed (only the MMU's writes can then have): its open entries, or the whole page when most are open.
     */
    boolean mayDiffer(MemorySegment ram, MemorySegment copy, long table) {
        if (offsets == null) {
            return ram.asSlice(table, Snapshot.PAGE).mismatch(copy.asSlice(table, Snapshot.PAGE)) != -1;
        }
        for (long offset : offsets) {
            if (ram.get(U64, table + offset) != copy.get(U64, table + offset)) {
                return true;
            }
        }
        return false;
    }
}
