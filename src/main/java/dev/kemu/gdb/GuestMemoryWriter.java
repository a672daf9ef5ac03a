package dev.kemu.gdb;

import dev.kemu.machine.Machine;

/**
 * A debugger's write to guest-virtual memory: through the current page tables but regardless of
 * their write permission (gdb patches code and read-only data too), then the translated code
 * for those bytes is dropped so that the guest runs what was written.
 */
final class GuestMemoryWriter {
    private GuestMemoryWriter() {}

    /** Writes all of {@code data} at {@code address}; false, writing nothing, if any page is not mapped. */
    static boolean write(Machine machine, long address, byte[] data) {
        long[] physical = new long[data.length];
        for (int i = 0; i < data.length; i++) {
            physical[i] = (i == 0 || ((address + i) & 0xfff) == 0) ? machine.physical(address + i) : physical[i - 1] + 1;
            if (physical[i] < 0) {
                return false;
            }
        }
        for (int i = 0; i < data.length; i++) {
            machine.ram().write8(physical[i], data[i]);
        }
        machine.codeChanged(address, address + data.length);
        return true;
    }
}
