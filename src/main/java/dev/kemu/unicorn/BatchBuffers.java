package dev.kemu.unicorn;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The native arguments of {@code uc_reg_read_batch} / {@code uc_reg_write_batch} for a fixed set of registers:
 * their ids, and a pointer per register to a value slot of {@code slotBytes} in one buffer. Allocated once, so a
 * batch call allocates nothing; {@link RegisterBatch} (64-bit slots) and {@link RegisterSlots} (16-byte slots)
 * copy the values in and out.
 */
final class BatchBuffers {
    final Unicorn engine;
    final int count;
    final MemorySegment ids;
    final MemorySegment values;
    private final MemorySegment pointers;

    BatchBuffers(Unicorn engine, Arena arena, int[] registers, int slotBytes) {
        this.engine = engine;
        this.count = registers.length;
        this.ids = arena.allocate(JAVA_INT, count);
        this.pointers = arena.allocate(ADDRESS, count);
        this.values = arena.allocate((long) slotBytes * count, slotBytes); // zeroed: a narrow register leaves the rest 0
        for (int i = 0; i < count; i++) {
            ids.setAtIndex(JAVA_INT, i, registers[i]);
            pointers.setAtIndex(ADDRESS, i, values.asSlice((long) i * slotBytes, slotBytes));
        }
    }

    /** Reads every register into its slot. */
    void read() {
        engine.batchCall(true, ids, pointers, count);
    }

    /** Writes every register from its slot. */
    void write() {
        engine.batchCall(false, ids, pointers, count);
    }
}
