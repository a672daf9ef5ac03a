package dev.kemu.gdb;

import dev.kemu.boot.BootOptions;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Threads = CPUs in the protocol, on kemu's own kernel with two CPUs (its smp.S starts cpu1). */
class CpuThreadsProtocolTest {
    private static final int RIP = new TargetDescription().number("rip").orElseThrow();

    private static StubUnderTest twoCpus() {
        return new StubUnderTest(TestKernels.defaultKernel(), BootOptions.defaults().withCpus(2));
    }

    private static String text(String hex) {
        return new String(RspPackets.unhex(hex), StandardCharsets.UTF_8);
    }

    private static long rip(RspTestClient gdb) throws Exception {
        return RspPackets.littleEndian(RspPackets.unhex(gdb.request("p" + Integer.toHexString(RIP))));
    }

    @Test
    void threadList_aliveAndExtraInfo_nameEveryCpu() throws Exception {
        try (StubUnderTest stub = twoCpus(); RspTestClient gdb = new RspTestClient(stub.port())) {
            assertEquals("m1,2", gdb.request("qfThreadInfo"));
            assertEquals("l", gdb.request("qsThreadInfo"));
            assertEquals("QC1", gdb.request("qC"));
            assertEquals("OK", gdb.request("T2"));
            assertEquals("E01", gdb.request("T3"), "no thread 3 on two CPUs");
            assertEquals("E01", gdb.request("Hg5"));
            assertEquals("CPU 0 (BSP), runnable", text(gdb.request("qThreadExtraInfo,1")));
            assertEquals("CPU 1 (AP), waiting for STARTUP", text(gdb.request("qThreadExtraInfo,2")));
        }
    }

    @Test
    void anApBreakpoint_stopsEveryCpu_namingThread2_andHgSelectsWhoseRegistersAreRead() throws Exception {
        try (StubUnderTest stub = twoCpus(); RspTestClient gdb = new RspTestClient(stub.port())) {
            long apEntry = stub.boot().symbols().address("ap_higher_half");
            assertEquals("OK", gdb.request("Hg2"));
            long waiting = rip(gdb);
            String step = gdb.request("vCont;s:2;c");
            assertTrue(step.startsWith("T05thread:02;"), step);
            assertEquals(waiting, rip(gdb), "a CPU waiting for STARTUP executes nothing when stepped");

            String stop = gdb.continueTo(apEntry);
            assertTrue(stop.startsWith("T05thread:02;swbreak:"), "the AP hit it: " + stop);
            assertEquals("QC2", gdb.request("qC"));
            assertEquals("OK", gdb.request("Hg2"));
            assertEquals(apEntry, rip(gdb));
            assertEquals("OK", gdb.request("Hg1"));
            assertNotEquals(apEntry, rip(gdb), "cpu0 stopped elsewhere, between two of its instructions");
            long bspBefore = rip(gdb);

            String stepped = gdb.request("vCont;s:2;c");
            assertTrue(stepped.startsWith("T05thread:02;"), stepped);
            assertEquals("OK", gdb.request("Hg1"));
            assertEquals(bspBefore, rip(gdb), "all-stop: stepping cpu1 leaves cpu0 where it was");
            assertEquals("OK", gdb.request("Hg2"));
            assertNotEquals(apEntry, rip(gdb), "cpu1 executed its instruction");
        }
    }

    @Test
    void aWatchpoint_catchesTheApsStore_andReverseExecutionIsRefusedWithAReason() throws Exception {
        try (StubUnderTest stub = twoCpus(); RspTestClient gdb = new RspTestClient(stub.port())) {
            long counter = stub.boot().symbols().address("shared_counter");
            assertTrue(gdb.continueTo(stub.boot().symbols().address("ap_higher_half")).startsWith("T05thread:02;"));
            assertEquals("OK", gdb.request("z0," + Long.toHexString(stub.boot().symbols().address("ap_higher_half")) + ",1"));
            assertEquals("OK", gdb.request("Z2," + Long.toHexString(counter) + ",8"));
            String hit = gdb.request("c");
            assertTrue(hit.startsWith("T05thread:02;watch:" + Long.toHexString(counter)), "cpu1's lock xadd: " + hit);
            gdb.sendRaw(new String(RspPackets.frame("bs"), StandardCharsets.ISO_8859_1));
            gdb.readByte(); // '+'
            String why = text(gdb.readPacket().substring(1));
            assertTrue(why.contains("reverse-stepi needs --cpus 1"), why);
            assertEquals("E03", gdb.readPacket(), "reverse-stepi with two CPUs is refused");
            String note = gdb.monitor("last-write shared_counter");
            assertTrue(note.contains("needs --cpus 1"), note);
        }
    }
}
