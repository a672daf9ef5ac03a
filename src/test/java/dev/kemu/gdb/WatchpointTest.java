package dev.kemu.gdb;

import dev.kemu.boot.KernelSources;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Watchpoints through the protocol: on a single step, and for a wide store that begins below the range. */
class WatchpointTest {
    private static final String KMAIN = """
                lea rdx, [rip + cell]
                mov dword ptr [rdx], 7
            wide_store:
                mov rax, -1
                mov qword ptr [rdx - 4], rax
                hlt
            .section .data
            .align 16
            pad: .quad 0
            cell: .quad 0
            """;

    @TempDir
    static Path dir;
    private static KernelSources.BuiltImages images;

    @BeforeAll
    static void build() {
        images = TestKernels.withKmain(dir, KMAIN);
    }

    @Test
    void stepOverAWatchedStore_reportsTheWatchpoint() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(images);
             RspTestClient gdb = new RspTestClient(stub.port())) {
            long kmain = stub.boot().symbols().address("kmain");
            long cell = stub.boot().symbols().address("cell");
            gdb.continueTo(kmain);
            assertEquals("OK", gdb.request("Z2," + Long.toHexString(cell) + ",4"));
            assertTrue(gdb.request("s").startsWith("T05"), "lea");
            String reply = gdb.request("s");
            assertTrue(reply.contains("watch:" + Long.toHexString(cell)), "the store hit the watchpoint: " + reply);
        }
    }

    @Test
    void aWideStoreBeginningBelowTheRange_hitsTheWatchpoint() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(images);
             RspTestClient gdb = new RspTestClient(stub.port())) {
            long wide = stub.boot().symbols().address("wide_store");
            long cell = stub.boot().symbols().address("cell");
            gdb.continueTo(wide);
            assertEquals("OK", gdb.request("Z2," + Long.toHexString(cell) + ",4"));
            String reply = gdb.request("c");
            assertTrue(reply.contains("watch:" + Long.toHexString(cell)), "an 8-byte store at cell-4 reaches cell: " + reply);
            assertEquals(RspPackets.littleEndianHex(0xffffffffL, 4), gdb.memory(cell, 4));
        }
    }
}
