package dev.kemu.machine;

import java.util.Arrays;

/** Physical page numbers, added in ascending order, kept as runs of consecutive pages. */
final class ChangedPages {
    private long[] firsts = new long[16];
    private long[] ends = new long[16]; // exclusive
    private int runs;
    private long count;

    void add(long page) {
        count++;
        if (runs > 0 && ends[runs - 1] == page) {
            ends[runs - 1] = page + 1;
            return;
        }
        if (runs == firsts.length) {
            firsts = Arrays.copyOf(firsts, runs * 2);
            ends = Arrays.copyOf(ends, runs * 2);
        }
        firsts[runs] = page;
        ends[runs] = page + 1;
        runs++;
    }

    int runs() {
        return runs;
    }

    /** The first page of run {@code i}. */
    long first(int i) {
        return firsts[i];
    }

    /** The page after run {@code i}. */
    long end(int i) {
        return ends[i];
    }

    long count() {
        return count;
    }

    void clear() {
        runs = 0;
        count = 0;
    }
}
