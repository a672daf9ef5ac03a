package dev.kemu.machine;

import dev.kemu.unicorn.RegisterSlots;

/** Registers up to 16 bytes wide (general, x87, XMM, an MSR) read with one native call; see {@link RegisterSlots}. */
public final class RegisterSlotBlock {
    /** Bytes per slot, and where an MSR's value lies in its slot. */
    public static final int SLOT = RegisterSlots.SLOT;
    public static final int MSR_VALUE = RegisterSlots.MSR_VALUE;

    private final RegisterSlots slots;

    RegisterSlotBlock(RegisterSlots slots) {
        this.slots = slots;
    }

    /** Makes slot {@code slot} (whose register is {@code X86Reg.MSR}) read model-specific register {@code msr}. */
    public void selectMsr(int slot, int msr) {
        slots.selectMsr(slot, msr);
    }

    /** Reads every register; slot {@code i} lands at {@code out[i * SLOT ..]}, little-endian. */
    public void read(byte[] out) {
        slots.read(out);
    }
}
