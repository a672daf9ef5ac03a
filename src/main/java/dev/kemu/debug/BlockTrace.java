package dev.kemu.debug;

import dev.kemu.machine.Machine;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;

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

    /**
     * The recent blocks as lines, oldest first: {@code 0xffffffffc0000007 my_memcpy} (the address
     * alone when no symbol covers it), with a loop collapsed: its blocks once, then
     * {@code ... 31 more times} (one block) or {@code ... these 3 blocks 9 more times}.
     */
    public List<String> lines(LongFunction<String> symbolize) {
        List<Long> blocks = recent();
        List<String> lines = new ArrayList<>();
        int i = 0;
        while (i < blocks.size()) {
            int period = 1, repeats = 0;
            for (int p = 1; p <= MAX_LOOP_BLOCKS && i + 2 * p <= blocks.size(); p++) {
                int r = repeats(blocks, i, p);
                if (r * p > repeats * period) {
                    period = p;
                    repeats = r;
                }
            }
            for (int k = i; k < i + period; k++) {
                lines.add(line(blocks.get(k), symbolize));
            }
            if (repeats > 0) {
                lines.add(period == 1 ? "... " + repeats + " more times"
                        : "... these " + period + " blocks " + repeats + " more times");
            }
            i += period * (repeats + 1);
        }
        return lines;
    }

    /** Loops of up to this many blocks are collapsed. */
    private static final int MAX_LOOP_BLOCKS = 8;

    /** How many times {@code blocks[from, from + period)} repeats right after itself. */
    private static int repeats(List<Long> blocks, int from, int period) {
        int repeats = 0;
        for (int next = from + period; next + period <= blocks.size(); next += period) {
            if (!blocks.subList(next, next + period).equals(blocks.subList(from, from + period))) {
                break;
            }
            repeats++;
        }
        return repeats;
    }

    private static String line(long address, LongFunction<String> symbolize) {
        String hex = "0x" + Long.toHexString(address);
        String symbol = symbolize.apply(address);
        return symbol.equals(hex) ? hex : hex + " " + symbol;
    }

    public void clear() {
        count = 0;
    }

    @Override
    public void close() {
        hook.close();
    }
}
