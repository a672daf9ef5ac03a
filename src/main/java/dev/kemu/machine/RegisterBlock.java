package dev.kemu.machine;

import dev.kemu.unicorn.RegisterBatch;

/** A fixed set of registers (ids from {@code X86Reg}) read or written with one native call. */
public final class RegisterBlock {
    private final RegisterBatch batch;

    RegisterBlock(RegisterBatch batch) {
        this.batch = batch;
    }

    /** Reads every register of the block into {@code out[0..size)}. */
    public void read(long[] out) {
        batch.read(out);
    }

    /** Writes {@code in[0..size)} to the registers of the block. */
    public void write(long[] in) {
        batch.write(in);
    }

    public int size() {
        return batch.size();
    }
}
