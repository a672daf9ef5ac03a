package dev.kemu.machine;

/**
 * A device behind a range of guest-physical addresses (a local APIC, a frame buffer's
 * registers). Called on the emulating thread, inside the load or store instruction, whatever
 * virtual address the guest used: only the offset from the start of the claimed range arrives.
 *
 * <p>Accesses arrive 1, 2 or 4 bytes wide: Unicorn 2.1.4 splits an 8-byte load or store into
 * two 4-byte ones, the lower offset first (MemoryMappedDeviceTest shows it). That suits
 * devices with 32-bit registers such as a local APIC.
 */
public interface MmioDevice {
    /** A load of {@code size} bytes at {@code offset}; the low {@code size} bytes of the result count. */
    long read(Machine machine, long offset, int size);

    /** A store of {@code size} bytes at {@code offset}; {@code value} holds them in its low bytes. */
    void write(Machine machine, long offset, int size, long value);
}
