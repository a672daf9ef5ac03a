package dev.kemu.machine;

import dev.kemu.capstone.Capstone;
import dev.kemu.unicorn.X86Reg;

/**
 * The instructions of one translated block, as the block counter needs them: how many, where each
 * starts, and whether the last can set IF. Decoded with Capstone in the code size the CPU runs with
 * (64-bit under EFER.LMA, else the D bit of CS), from guest virtual memory as it is now. Decoding happens
 * when the counter first meets a block (and once per quantum whose limit falls inside a block), never
 * per execution.
 */
final class BlockInstructions implements AutoCloseable {
    /** Offsets past 16 bits do not fit the native cache entry; Unicorn's blocks stay within a page or two. */
    private static final int MAX_OFFSET = 0xffff;

    private final Machine machine;
    private Capstone capstone;
    private int bits;

    BlockInstructions(Machine machine) {
        this.machine = machine;
    }

    /** The start offsets of the instructions in {@code [address, address + size)}; empty when unreadable. */
    int[] offsets(long address, int size) {
        byte[] code = machine.readVirtual(address, size);
        if (code.length == 0) {
            return new int[0];
        }
        Capstone decoder = decoder(codeBits());
        var decoded = decoder.disassemble(code, address, 0);
        int[] offsets = new int[decoded.size()];
        for (int i = 0; i < offsets.length; i++) {
            offsets[i] = (int) (decoded.get(i).address() - address);
        }
        return offsets;
    }

    /**
     * The block as kemu_block_count_hook's cache entry takes it: instructions in bits 0-15, the last one's offset
     * in bits 16-31, bit 32 set when the last one can set IF. 0 (counted as one instruction) when undecodable.
     */
    long describe(long address, int size) {
        int[] offsets = offsets(address, size);
        if (offsets.length == 0) {
            return 0;
        }
        int last = Math.min(offsets[offsets.length - 1], MAX_OFFSET);
        byte[] lastBytes = machine.readVirtual(address + last, size - last);
        long setsIf = InstructionCounter.setsInterruptFlag(lastBytes, lastBytes.length) ? 1L << 32 : 0;
        return setsIf | (long) last << 16 | Math.min(offsets.length, 0xffff);
    }

    /** How many of the block's instructions run up to and including the one at {@code rip}; -1 if none starts there. */
    int ranThrough(long address, int size, long rip) {
        int[] offsets = offsets(address, size);
        for (int i = 0; i < offsets.length; i++) {
            if (address + offsets[i] == rip) {
                return i + 1;
            }
        }
        return -1;
    }

    private int codeBits() {
        if ((machine.msr(X86Reg.MSR_EFER) & CpuState.EFER_LMA) != 0) {
            return 64;
        }
        return machine.codeSegment().defaultSize32() ? 32 : 16;
    }

    private Capstone decoder(int codeBits) {
        if (capstone == null) {
            capstone = new Capstone();
            bits = 64;
        }
        if (codeBits != bits) {
            capstone.codeSize(codeBits);
            bits = codeBits;
        }
        return capstone;
    }

    @Override
    public void close() {
        if (capstone != null) {
            capstone.close();
        }
    }
}
