package dev.kemu.kernel.kasan;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class AccessSizeTest {
    @Test
    void theOperandsSizeKeyword_givesTheBytes_longestNameFirst() {
        assertEquals(8, AccessSize.of("qword ptr [rax + 0x1000], 1"));
        assertEquals(4, AccessSize.of("eax, dword ptr [rbx]"));
        assertEquals(2, AccessSize.of("word ptr [rbx], ax"));
        assertEquals(1, AccessSize.of("byte ptr [rbx + 0x20], 0x41"));
        assertEquals(16, AccessSize.of("xmmword ptr [rdi], xmm0"));
        assertEquals(32, AccessSize.of("ymm1, ymmword ptr [rsi]"));
        assertEquals(0, AccessSize.of("rax, rbx"));
    }
}
