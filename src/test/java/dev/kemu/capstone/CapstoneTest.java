package dev.kemu.capstone;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class CapstoneTest {
    @Test
    void disassemble_decodesIntelSyntaxWithAddressesAndBytes() {
        try (Capstone cs = new Capstone()) {
            byte[] code = {0x48, (byte) 0x8B, 0x04, 0x25, 0, 0x30, 1, 0, (byte) 0xF4, (byte) 0xC3};
            List<Capstone.Instruction> insns = cs.disassemble(code, 0xffffffff80100000L, 10);
            assertEquals(3, insns.size());
            assertEquals("mov rax, qword ptr [0x13000]", insns.get(0).text());
            assertEquals(0xffffffff80100008L, insns.get(1).address());
            assertEquals("hlt", insns.get(1).text());
            assertArrayEquals(new byte[]{(byte) 0xC3}, insns.get(2).bytes());
        }
    }

    @Test
    void disassemble_stopsAtUndecodableBytes() {
        try (Capstone cs = new Capstone()) {
            assertEquals(List.of(), cs.disassemble(new byte[]{0x06, 0x07}, 0, 5));
        }
    }
}
