package dev.kemu.gdb;

import dev.kemu.boot.KernelSources;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stub's instruction time is exact at every kind of stop: a step, a breakpoint whose hook was added
 * before the native counter's and one added after it, runs across checkpoints, and a reverse-continue.
 * The reference is the guest's own code: a loop of a known number of instructions.
 */
class InstructionTimeTest {
    private static final String KMAIN = """
            first:
                mov rcx, 70000
            spin:
                add rax, rcx
                dec rcx
                jnz spin
            middle:
                mov rcx, 50001
            spin2:
                dec rcx
                jnz spin2
            last:
                hlt
            """;

    @TempDir
    static Path dir;
    private static KernelSources.BuiltImages images;

    @BeforeAll
    static void build() {
        images = TestKernels.withKmain(dir, KMAIN);
    }

    @Test
    void breakpointStops_stepsAndReverseContinue_keepTheExactInstructionTime() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(images);
             RspTestClient gdb = new RspTestClient(stub.port())) {
            var symbols = stub.boot().symbols();
            // Inserted before any run: this breakpoint's hook comes before the counter's.
            assertTrue(gdb.continueTo(symbols.address("first")).contains("swbreak"));
            long atFirst = time(gdb);
            assertTrue(gdb.request("s").startsWith("T05"));
            assertEquals(atFirst + 1, time(gdb), "one step, one instruction");
            // Inserted after runs: this hook comes after the counter's, which counted the instruction first.
            assertTrue(gdb.continueTo(symbols.address("middle")).contains("swbreak"));
            long atMiddle = time(gdb);
            assertEquals(atFirst + 1 + 3 * 70_000, atMiddle, "mov, then 70,000 iterations of 3");
            assertTrue(gdb.continueTo(symbols.address("last")).contains("swbreak"));
            assertEquals(atMiddle + 1 + 2 * 50_001, time(gdb), "across the checkpoint at 100,000 and 200,000");
            assertTrue(gdb.request("bc").contains("swbreak"), "back to the breakpoint at middle");
            assertEquals(symbols.address("middle"), rip(gdb));
            assertEquals(atMiddle, time(gdb), "the replay stops at the moment the forward run stopped");
        }
    }

    private static long rip(RspTestClient gdb) throws Exception {
        int number = new TargetDescription().number("rip").orElseThrow();
        return Long.reverseBytes(Long.parseUnsignedLong(gdb.request("p" + Integer.toHexString(number)), 16));
    }

    private static long time(RspTestClient gdb) throws Exception {
        String text = gdb.monitor("time");
        assertTrue(text.startsWith("instruction "), text);
        return Long.parseLong(text.replaceAll("\\D", ""));
    }
}
