package dev.kemu.capstone;

import dev.kemu.nativelib.NativeLibraryException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Capstone's detail mode: the memory operand of every addressing form, read from cs_detail. */
class CapstoneOperandsTest {
    /** The memory operand of the instruction whose bytes are {@code hex} ("48 8b 03"). */
    private static Capstone.MemoryOperand memoryOf(String hex) {
        byte[] code = java.util.HexFormat.ofDelimiter(" ").parseHex(hex);
        try (Capstone cs = Capstone.withOperands()) {
            List<Capstone.Instruction> insns = cs.disassemble(code, 0x1000, 1);
            assertEquals(1, insns.size());
            return insns.getFirst().memory().orElseThrow(() -> new AssertionError("no memory operand: "
                    + insns.getFirst().text()));
        }
    }

    @Test
    void everyAddressingForm_decodesSegmentBaseIndexScaleAndDisplacement() {
        assumeTrue(Capstone.operandDetailSupported(), "operand detail needs libcapstone 4");
        // mov rax, qword ptr [rip + 0x7ff00000]
        assertEquals(new Capstone.MemoryOperand("", "rip", "", 1, 0x7ff00000, 8),
                memoryOf("48 8b 05 00 00 f0 7f"));
        // mov rax, qword ptr [rbx + rcx*4 - 0x20]
        assertEquals(new Capstone.MemoryOperand("", "rbx", "rcx", 4, -0x20, 8),
                memoryOf("48 8b 44 8b e0"));
        // mov rax, qword ptr gs:[rcx*2 + 0x100] (no base)
        assertEquals(new Capstone.MemoryOperand("gs", "", "rcx", 2, 0x100, 8),
                memoryOf("65 48 8b 04 4d 00 01 00 00"));
        // mov eax, dword ptr [0x7fe00000] (absolute: neither base nor index)
        assertEquals(new Capstone.MemoryOperand("", "", "", 1, 0x7fe00000, 8),
                memoryOf("8b 04 25 00 00 e0 7f"));
        // mov qword ptr [r12 + r13*2 + 0x7f], rax (the store's destination)
        assertEquals(new Capstone.MemoryOperand("", "r12", "r13", 2, 0x7f, 8),
                memoryOf("4b 89 44 6c 7f"));
        // mov eax, dword ptr [ebx + ecx*4 + 4] (0x67: 32-bit addressing)
        assertEquals(new Capstone.MemoryOperand("", "ebx", "ecx", 4, 4, 4),
                memoryOf("67 8b 44 8b 04"));
    }

    @Test
    void instructionsWithoutMemoryOperands_andTextOnlyMode_haveNone() {
        assumeTrue(Capstone.operandDetailSupported(), "operand detail needs libcapstone 4");
        try (Capstone cs = Capstone.withOperands(); Capstone text = new Capstone()) {
            byte[] movRegReg = {0x48, (byte) 0x89, (byte) 0xd8}; // mov rax, rbx
            assertEquals(Optional.empty(), cs.disassemble(movRegReg, 0, 1).getFirst().memory());
            byte[] load = {0x48, (byte) 0x8b, 0x03}; // mov rax, qword ptr [rbx]
            assertEquals(Optional.empty(), text.disassemble(load, 0, 1).getFirst().memory());
            assertEquals("mov rax, qword ptr [rbx]", cs.disassemble(load, 0, 1).getFirst().text());
        }
    }

    @Test
    void detailMode_onAnotherMajorVersion_isRefusedWithTheVersionAndWhatToDo() {
        assumeTrue(!Capstone.operandDetailSupported(), "the loaded libcapstone is 4.x: nothing to refuse");
        NativeLibraryException refused = assertThrows(NativeLibraryException.class, Capstone::withOperands);
        assertTrue(refused.getMessage().contains("only from libcapstone 4.x"), refused.getMessage());
        assertTrue(refused.getMessage().contains("CAPSTONE_LIB"), refused.getMessage());
    }
}
