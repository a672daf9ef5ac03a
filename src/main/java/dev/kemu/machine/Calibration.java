package dev.kemu.machine;

import dev.kemu.unicorn.Unicorn;

/** Helpers shared by the calibrations that build a tiny paged machine in a scratch engine. */
final class Calibration {
    private Calibration() {}

    /** Writes a little-endian u64 into the scratch engine's memory. */
    static void write64(Unicorn uc, long address, long value) {
        byte[] bytes = new byte[8];
        for (int i = 0; i < 8; i++) {
            bytes[i] = (byte) (value >>> (8 * i));
        }
        uc.memWrite(address, bytes);
    }
}
