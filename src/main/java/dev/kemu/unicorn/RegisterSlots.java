package dev.kemu.unicorn;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

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

    private final BatchBuffers buffers;

    RegisterSlots(Unicorn engine, Arena arena, int[] registers) {
        this.buffers = new BatchBuffers(engine, arena, registers, SLOT);
    }

    /** Makes slot {@code slot} (whose register is {@code X86Reg.MSR}) read model-specific register {@code msr}. */
    public void selectMsr(int slot, int msr) {
        if (buffers.ids.getAtIndex(JAVA_INT, slot) != X86Reg.MSR) {
            throw new IllegalArgumentException("slot " + slot + " holds register " + buffers.ids.getAtIndex(JAVA_INT, slot)
                    + ", not X86Reg.MSR: only an MSR slot takes an MSR index");
        }
        buffers.values.set(JAVA_INT, (long) slot * SLOT, msr);
    }

    /** Reads every register; slot {@code i} lands at {@code out[i * SLOT ..]} (little-endian, as Unicorn wrote it). */
    public void read(byte[] out) {
        buffers.read();
        MemorySegment.copy(buffers.values, JAVA_BYTE, 0, out, 0, SLOT * buffers.count);
    }

    public int size() {
        return buffers.count;
    }
}
