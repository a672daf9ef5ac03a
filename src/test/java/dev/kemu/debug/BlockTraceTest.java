package dev.kemu.debug;

import dev.kemu.machine.Machine;
import dev.kemu.machine.RunLimits;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The block trace's lines on a bare machine (paging off): one line per block, loops collapsed. */
class BlockTraceTest {
    @Test
    void twoBlockLoop_isPrintedOnce_thenCountedAsRepeats() {
        try (Machine machine = new Machine(1 << 20);
             BlockTrace trace = new BlockTrace(machine, 16)) {
            machine.ram().write(0x1000, new byte[]{(byte) 0xEB, 0x0E});       // 0x1000: jmp 0x1010
            machine.ram().write(0x1010, new byte[]{(byte) 0xEB, (byte) 0xEE}); // 0x1010: jmp 0x1000
            machine.run(0x1000, RunLimits.budget(40));
            List<String> lines = trace.lines(a -> a == 0x1000 ? "top" : "0x" + Long.toHexString(a));
            assertEquals(3, lines.size(), lines.toString());
            assertEquals(List.of("0x1000 top", "0x1010"), lines.subList(0, 2).stream().sorted().toList());
            assertEquals("... these 2 blocks 7 more times", lines.get(2));
        }
    }

    @Test
    void straightLineCode_printsEveryBlock() {
        try (Machine machine = new Machine(1 << 20);
             BlockTrace trace = new BlockTrace(machine, 16)) {
            machine.ram().write(0x1000, new byte[]{(byte) 0xEB, 0x0E});       // 0x1000: jmp 0x1010
            machine.ram().write(0x1010, new byte[]{(byte) 0xEB, 0x0E});       // 0x1010: jmp 0x1020
            machine.ram().write(0x1020, new byte[]{(byte) 0xF4});             // 0x1020: hlt
            machine.run(0x1000, RunLimits.budget(40));
            assertEquals(List.of("0x1000", "0x1010", "0x1020"), trace.lines(a -> "0x" + Long.toHexString(a)));
        }
    }
}
