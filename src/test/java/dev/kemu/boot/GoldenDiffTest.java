package dev.kemu.boot;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class GoldenDiffTest {
    @Test
    void diff_marksChangedLinesAndKeepsTheRest() {
        assertEquals("  a\n- b\n+ B\n  c\n+ d\n", BootGoldenTest.diff(List.of("a", "b", "c"), List.of("a", "B", "c", "d")));
    }
}
