package dev.kemu.machine;

import dev.kemu.capstone.Capstone;

import java.util.List;
import java.util.Optional;

/** x86-64 disassembly (Capstone) for the layers above the machine. One per thread. */
public final class Disassembler implements AutoCloseable {
    /** One decoded instruction: where, its bytes, its Intel-syntax text and its memory operand (if any, and decoded). */
    public record Instruction(long address, byte[] bytes, String mnemonic, String operands,
                              Optional<MemoryOperand> memory) {
        public String text() {
            return operands.isEmpty() ? mnemonic : mnemonic + " " + operands;
        }
    }

    /** {@code segment:[base + index * scale + displacement]}, registers by Capstone's names, "" for none. */
    public record MemoryOperand(String segment, String base, String index, int scale, long displacement,
                                int addressSize) {}

    // Operands are decoded where the loaded libcapstone's cs_detail layout is known (4.x); text everywhere.
    private final Capstone capstone = Capstone.operandDetailSupported() ? Capstone.withOperands() : new Capstone();
    private int codeBits = 64;

    /** Decodes {@code code} as {@code bits}-bit code (16, 32 or 64: what the CPU's CS selects). */
    public List<Instruction> disassemble(byte[] code, long address, int count, int bits) {
        if (bits != codeBits) {
            capstone.codeSize(bits);
            codeBits = bits;
        }
        return disassemble(code, address, count);
    }

    /** Decodes up to {@code count} instructions of {@code code}, which starts at {@code address}, in the last code size (64-bit at first). */
    public List<Instruction> disassemble(byte[] code, long address, int count) {
        return capstone.disassemble(code, address, count).stream()
                .map(i -> new Instruction(i.address(), i.bytes(), i.mnemonic(), i.operands(), i.memory().map(m ->
                        new MemoryOperand(m.segment(), m.base(), m.index(), m.scale(), m.displacement(),
                                m.addressSize())))).toList();
    }

    public static String librarySource() {
        return Capstone.librarySource();
    }

    @Override
    public void close() {
        capstone.close();
    }
}
