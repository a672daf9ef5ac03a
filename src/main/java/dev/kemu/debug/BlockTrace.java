package dev.kemu.debug;

import dev.kemu.machine.Machine;

import java.util.ArrayList;
import java.util.List;

/**
 * The last N executed basic blocks, in a ring buffer filled by a block hook (one upcall per
 * block, not per instruction). Off unless a user asks for it.
 */
public final class BlockTrace implements AutoCloseable {
    private final long[] ring;
    private long count;
    private final Machine.Subscription hook;

    public BlockTrace(Machine machine, int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("trace capacity must be positive");
        }
        ring = new long[capacity];
        hook = machine.onBlock((address, size) -> ring[(int) (count++ % ring.length)] = address);
    }

    /** Block start addresses, oldest first. */
    public List<Long> recent() {
        List<Long> blocks = new ArrayList<>();
        long first = Math.max(0, count - ring.length);
        for (long i = first; i < count; i++) {
            blocks.add(ring[(int) (i % ring.length)]);
        }
        return blocks;
    }

    public void clear() {
        count = 0;
    }

    @Override
    public void close() {
        hook.close();
    }
}
