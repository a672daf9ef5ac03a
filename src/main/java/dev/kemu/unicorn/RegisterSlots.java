package dev.kemu.unicorn;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Registers of any width up to 16 bytes (general, x87, XMM, an MSR) read with one native call
 * ({@code uc_reg_read_batch}, which lets each register write its own width) into fixed 16-byte slots,
 * then copied out in one bulk copy. For a debugger reading every register at each stop: one call
 * instead of one per wide register, and no per-register work in Java before the copy.
 */
public final class RegisterSlots {
    /** Bytes per slot: the widest register read here (XMM). */
    public static final int SLOT = 16;
    /** Where an MSR's value lies in its slot: the slot is Unicorn's {@code uc_x86_msr {uint32 rid; uint64 value}}. */
    public static final int MSR_VALUE = 8;

    private final Unicorn engine;
    private final int count;
    private final MemorySegment ids;
    private final MemorySegment pointers;
    private final MemorySegment values;

    RegisterSlots(Unicorn engine, Arena arena, int[] registers) {
        this.engine = engine;
        this.count = registers.length;
        this.ids = arena.allocate(JAVA_INT, count);
        this.pointers = arena.allocate(ADDRESS, count);
        this.values = arena.allocate((long) SLOT * count, SLOT); // zeroed: a narrow register leaves the rest 0
        for (int i = 0; i < count; i++) {
            ids.setAtIndex(JAVA_INT, i, registers[i]);
            pointers.setAtIndex(ADDRESS, i, values.asSlice((long) i * SLOT, SLOT));
        }
    }

    /** Makes slot {@code slot} (whose register is {@code X86Reg.MSR}) read model-specific register {@code msr}. */
    public void selectMsr(int slot, int msr) {
        if (ids.getAtIndex(JAVA_INT, slot) != X86Reg.MSR) {
            throw new IllegalArgumentException("slot " + slot + " holds register " + ids.getAtIndex(JAVA_INT, slot)
                    + ", not X86Reg.MSR: only an MSR slot takes an MSR index");
        }
        values.set(JAVA_INT, (long) slot * SLOT, msr);
    }

    /** Reads every register; slot {@code i} lands at {@code out[i * SLOT ..]} (little-endian, as Unicorn wrote it). */
    public void read(byte[] out) {
        engine.batchCall(true, ids, pointers, count);
        MemorySegment.copy(values, JAVA_BYTE, 0, out, 0, SLOT * count);
    }

    public int size() {
        return count;
    }
}
