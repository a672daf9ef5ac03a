package dev.kemu.gdb;

import dev.kemu.boot.KernelSources;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reverse execution through the protocol: the emulated CPU's own forward run is the reference. */
class ReverseExecutionTest {
    private static final String KMAIN = """
                mov rcx, 40000
            spin:
                add rax, rcx
                dec rcx
                jnz spin
                lea rdx, [rip + cell]
                mov qword ptr [rdx], 7
            second_store:
                mov qword ptr [rdx], 9
                hlt
            .section .data
            cell: .quad 0
            """;
    private static final TargetDescription TARGET = new TargetDescription();

    @TempDir
    static Path dir;
    private static KernelSources.BuiltImages images;

    @BeforeAll
    static void build() {
        images = TestKernels.withKmain(dir, KMAIN);
    }

    private static String reg(RspTestClient gdb, String name) throws Exception {
        return gdb.request("p" + Integer.toHexString(TARGET.number(name).orElseThrow()));
    }

    @Test
    void reverseStep_retracesEveryStepExactly_acrossCheckpoints() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(images);
             RspTestClient gdb = new RspTestClient(stub.port())) {
            assertTrue(gdb.request("qSupported").contains("ReverseStep+"));
            long spin = stub.boot().symbols().address("spin");
            gdb.continueTo(spin);
            gdb.request("z0," + Long.toHexString(spin) + ",1");
            List<String> states = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                states.add(state(gdb));
                assertTrue(gdb.request("s").startsWith("T05"));
            }
            for (int i = 3; i >= 0; i--) {
                assertTrue(gdb.request("bs").startsWith("T05"));
                assertEquals(states.get(i), state(gdb), "back to the state before step " + i);
            }
            // 40,000 iterations of 3 instructions: well past the checkpoint at 100,000 instructions
            long second = stub.boot().symbols().address("second_store");
            gdb.request("Z0," + Long.toHexString(second) + ",1");
            assertTrue(gdb.request("c").startsWith("T05"));
            assertTrue(monitor(gdb, "time").matches("(?s)instruction 1\\d\\d,\\d{3} .*"), monitor(gdb, "time"));
            String atSecond = state(gdb);
            gdb.request("bs");
            String beforeSecond = state(gdb);
            gdb.request("s");
            assertEquals(atSecond, state(gdb), "back one (replayed from a checkpoint) and forward one: the same state");
            gdb.request("bs");
            assertEquals(beforeSecond, state(gdb));
        }
    }

    private static String state(RspTestClient gdb) throws Exception {
        return reg(gdb, "rip") + reg(gdb, "rax") + reg(gdb, "rcx") + reg(gdb, "eflags");
    }

    @Test
    void reverseStepi_afterAStore_showsTheOldValue_andLastWriteNamesTheStore() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(images);
             RspTestClient gdb = new RspTestClient(stub.port())) {
            long second = stub.boot().symbols().address("second_store");
            long cell = stub.boot().symbols().address("cell");
            gdb.continueTo(second);
            assertEquals(RspPackets.littleEndianHex(7, 8), gdb.memory(cell, 8));
            gdb.request("bs"); // before the first store
            assertEquals(RspPackets.littleEndianHex(0, 8), gdb.memory(cell, 8));
            gdb.request("s");
            gdb.request("s"); // the second store ran
            assertEquals(RspPackets.littleEndianHex(9, 8), gdb.memory(cell, 8));
            String output = monitor(gdb, "last-write cell");
            assertTrue(output.contains("second_store") && output.contains("0x7 -> 0x9"), output);
        }
    }

    @Test
    void reverseContinue_stopsAtTheLastBreakpointHitBeforeNow() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(images);
             RspTestClient gdb = new RspTestClient(stub.port())) {
            long spin = stub.boot().symbols().address("spin");
            long second = stub.boot().symbols().address("second_store");
            gdb.continueTo(second);
            String raxAtEnd = reg(gdb, "rax");
            gdb.request("Z0," + Long.toHexString(spin) + ",1");
            assertTrue(gdb.request("bc").contains("swbreak"));
            assertEquals(RspPackets.littleEndianHex(spin, 8), reg(gdb, "rip"));
            assertEquals(RspPackets.littleEndianHex(1, 8), reg(gdb, "rcx"), "the last iteration of the loop");
            gdb.request("z0," + Long.toHexString(spin) + ",1");
            gdb.request("c");
            assertEquals(raxAtEnd, reg(gdb, "rax"), "forward again: the same result");
        }
    }

    private static String monitor(RspTestClient gdb, String command) throws Exception {
        gdb.sendRaw(new String(RspPackets.frame("qRcmd," + RspPackets.hex(command)), StandardCharsets.ISO_8859_1));
        gdb.readByte(); // '+'
        String output = gdb.readPacket();
        String ok = gdb.readPacket();
        assertEquals("OK", ok);
        return new String(RspPackets.unhex(output.substring(1)), StandardCharsets.UTF_8);
    }
}
