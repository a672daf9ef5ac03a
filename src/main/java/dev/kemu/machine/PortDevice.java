package dev.kemu.machine;

/** A device behind one or more I/O ports. Called on the emulating thread, inside the instruction. */
public interface PortDevice {
    /** An {@code out} of {@code size} bytes (1, 2 or 4). */
    void write(Machine machine, int port, int size, int value);

    /** An {@code in}; unclaimed ports read as all ones, like a floating ISA bus. */
    default int read(Machine machine, int port, int size) {
        return -1;
    }
}
