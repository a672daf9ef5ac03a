package dev.kemu.machine;

import java.util.function.LongConsumer;

/** One bit per 4 KiB page of guest RAM: written since the last {@link #clear()}. */
public final class DirtyPages {
    private final long[] bits;
    private final long pages;

    public DirtyPages(long ramBytes) {
        pages = ramBytes >>> 12;
        bits = new long[(int) ((pages + 63) / 64)];
    }

    public void mark(long physical, long length) {
        long page = physical >>> 12;
        if (length > 0 && length <= 4096 && ((physical + length - 1) >>> 12) == page && page < pages) {
            bits[(int) (page >>> 6)] |= 1L << page; // the common case: one page
            return;
        }
        if (length <= 0) {
            return;
        }
        long first = physical >>> 12, last = (physical + length - 1) >>> 12;
        for (long p = first; p <= last && p < pages; p++) {
            bits[(int) (p >>> 6)] |= 1L << p;
        }
    }

    public boolean isDirty(long page) {
        return (bits[(int) (page >>> 6)] & (1L << page)) != 0;
    }

    /** Calls {@code action} with each dirty page number, in order. */
    public void forEach(LongConsumer action) {
        for (int word = 0; word < bits.length; word++) {
            long w = bits[word];
            while (w != 0) {
                int bit = Long.numberOfTrailingZeros(w);
                action.accept(((long) word << 6) + bit);
                w &= w - 1;
            }
        }
    }

    public long count() {
        long count = 0;
        for (long w : bits) {
            count += Long.bitCount(w);
        }
        return count;
    }

    public void clear() {
        java.util.Arrays.fill(bits, 0);
    }
}
