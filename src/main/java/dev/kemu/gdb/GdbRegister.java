package dev.kemu.gdb;

import dev.kemu.machine.Machine;
import dev.kemu.unicorn.X86Reg;

/**
 * One register of kemu's target description: its gdb name, width, type and group, and how it is
 * read from and written to the emulated CPU.
 */
record GdbRegister(String name, int bits, String type, String group, int unicornId, Kind kind) {
    enum Kind {
        /** An ordinary register of up to 64 bits, read with uc_reg_read into a 64-bit value. */
        PLAIN,
        /** Wider than 64 bits (x87 80-bit, XMM 128-bit): read as bytes. */
        WIDE,
        /** A model-specific register (EFER), read with the MSR interface. */
        MSR
    }

    static final int EFER = X86Reg.MSR_EFER;

    int bytes() {
        return bits / 8;
    }

    /** The register's value as gdb's little-endian hex. */
    String read(Machine machine) {
        return switch (kind) {
            case PLAIN -> RspPackets.littleEndianHex(machine.register(unicornId), bytes());
            case WIDE -> RspPackets.hex(machine.registerBytes(unicornId, bytes()));
            case MSR -> RspPackets.littleEndianHex(machine.msr(unicornId), bytes());
        };
    }

    void write(Machine machine, byte[] value) {
        if (value.length != bytes()) {
            throw new MalformedPacketException(name + " is " + bytes() + " bytes, got " + value.length);
        }
        switch (kind) {
            case PLAIN -> machine.setRegister(unicornId, RspPackets.littleEndian(value));
            case WIDE -> machine.setRegisterBytes(unicornId, value);
            case MSR -> machine.setMsr(unicornId, RspPackets.littleEndian(value));
        }
    }

    String xml(int regnum) {
        return String.format("    <reg name=\"%s\" bitsize=\"%d\" type=\"%s\" regnum=\"%d\"%s/>%n", name, bits, type,
                regnum, group.isEmpty() ? "" : " group=\"" + group + "\"");
    }
}
