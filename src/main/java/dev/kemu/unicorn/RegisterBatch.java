package dev.kemu.unicorn;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A fixed set of 64-bit registers read or written with one native call
 * ({@code uc_reg_read_batch}). Buffers are allocated once, so the hot path allocates nothing.
 */
public final class RegisterBatch {
    private final BatchBuffers buffers;

    RegisterBatch(Unicorn engine, Arena arena, int[] registers) {
        this.buffers = new BatchBuffers(engine, arena, registers, 8);
    }

    /** Reads every register of the batch into {@code out[0..count)}. */
    public void read(long[] out) {
        buffers.read();
        // One bulk copy, not a getAtIndex per register: the run loop reads a batch after every run, and a
        // debugger's stepi is one run; until the JIT compiles this, each indexed access costs a microsecond.
        MemorySegment.copy(buffers.values, JAVA_LONG, 0, out, 0, buffers.count);
    }

    /** Writes {@code in[0..count)} to the registers of the batch. */
    public void write(long[] in) {
        MemorySegment.copy(in, 0, buffers.values, JAVA_LONG, 0, buffers.count);
        buffers.write();
    }

    public int size() {
        return buffers.count;
    }
}
