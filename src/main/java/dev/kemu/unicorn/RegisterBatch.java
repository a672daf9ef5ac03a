package dev.kemu.unicorn;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A fixed set of 64-bit registers read or written with one native call
 * ({@code uc_reg_read_batch}). Buffers are allocated once, so the hot path allocates nothing.
 */
public final class RegisterBatch {
    private final Unicorn engine;
    private final int count;
    private final MemorySegment ids;
    private final MemorySegment pointers;
    private final MemorySegment values;

    RegisterBatch(Unicorn engine, Arena arena, int[] registers) {
        this.engine = engine;
        this.count = registers.length;
        this.ids = arena.allocate(JAVA_INT, count);
        this.pointers = arena.allocate(ADDRESS, count);
        this.values = arena.allocate(JAVA_LONG, count);
        for (int i = 0; i < count; i++) {
            ids.setAtIndex(JAVA_INT, i, registers[i]);
            pointers.setAtIndex(ADDRESS, i, values.asSlice((long) i * 8, 8));
        }
    }

    /** Reads every register of the batch into {@code out[0..count)}. */
    public void read(long[] out) {
        engine.batchCall(true, ids, pointers, count);
        // One bulk copy, not a getAtIndex per register: the run loop reads a batch after every run, and a
        // debugger's stepi is one run; until the JIT compiles this, each indexed access costs a microsecond.
        MemorySegment.copy(values, JAVA_LONG, 0, out, 0, count);
    }

    /** Writes {@code in[0..count)} to the registers of the batch. */
    public void write(long[] in) {
        MemorySegment.copy(in, 0, values, JAVA_LONG, 0, count);
        engine.batchCall(false, ids, pointers, count);
    }

    public int size() {
        return count;
    }
}
