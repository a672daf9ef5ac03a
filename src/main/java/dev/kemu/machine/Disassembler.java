package dev.kemu.machine;

import dev.kemu.capstone.Capstone;

import java.util.List;

/** x86-64 disassembly (Capstone) for the layers above the machine. One per thread. */
public final class Disassembler implements AutoCloseable {
    /** One decoded instruction: where, its bytes, and its Intel-syntax text. */
    public record Instruction(long address, byte[] bytes, String mnemonic, String operands) {
        public String text() {
            return operands.isEmpty() ? mnemonic : mnemonic + " " + operands;
        }
    }

    private final Capstone capstone = new Capstone();

    /** Decodes up to {@code count} instructions of {@code code}, which starts at {@code address}. */
    public List<Instruction> disassemble(byte[] code, long address, int count) {
        return capstone.disassemble(code, address, count).stream()
                .map(i -> new Instruction(i.address(), i.bytes(), i.mnemonic(), i.operands())).toList();
    }

    public static String librarySource() {
        return Capstone.librarySource();
    }

    @Override
    public void close() {
        capstone.close();
    }
}
