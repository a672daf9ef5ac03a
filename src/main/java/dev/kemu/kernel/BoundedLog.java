package dev.kemu.kernel;

import java.util.ArrayList;
import java.util.List;

/**
 * Findings of one run, at most {@link #MAX_ENTRIES}: a guest refusing frees in a loop must not
 * exhaust the host's memory, so entries past the cap are only counted (as the fault log does).
 */
final class BoundedLog<T> {
    /** Entries kept per run, the same cap as the fault reports'. */
    static final int MAX_ENTRIES = 1000;

    private final List<T> entries = new ArrayList<>();
    private long dropped;

    /** Whether another entry would be kept; callers skip building entries that would be dropped. */
    boolean hasRoom() {
        return entries.size() < MAX_ENTRIES;
    }

    /** Keeps the entry {@code build} makes, or only counts it when the log is full. */
    void add(java.util.function.Supplier<T> build) {
        if (hasRoom()) {
            entries.add(build.get());
        } else {
            dropped++;
        }
    }

    List<T> entries() {
        return List.copyOf(entries);
    }

    /** Entries beyond {@link #MAX_ENTRIES} that were counted but not kept. */
    long dropped() {
        return dropped;
    }

    void clear() {
        entries.clear();
        dropped = 0;
    }
}
