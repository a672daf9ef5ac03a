package dev.kemu.gdb;

import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stub's protocol, driven by a small Java client: what gdb relies on, and what a broken client sends. */
class GdbProtocolTest {
    private static final TargetDescription TARGET = new TargetDescription();

    private static int registerBytes() {
        return TARGET.registers().stream().mapToInt(GdbRegister::bytes).sum();
    }

    @Test
    void registers_haveOneLayoutFromTheFirstInstructionToKmain() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(TestKernels.defaultKernel());
             RspTestClient gdb = new RspTestClient(stub.port())) {
            assertTrue(gdb.request("qSupported:multiprocess+;swbreak+;hwbreak+").contains("qXfer:features:read+"));
            String xml = gdb.request("qXfer:features:read:target.xml:0,ffff");
            assertTrue(xml.startsWith("l") && xml.contains("i386:x86-64") && xml.contains("name=\"cr3\"")
                    && xml.contains("name=\"efer\"") && xml.contains("name=\"fs_base\""), xml);
            String atEntry = gdb.request("g");
            long kmain = stub.boot().symbols().address("kmain");
            assertEquals("OK", gdb.request("Z0," + Long.toHexString(kmain) + ",1"));
            assertTrue(gdb.request("c").startsWith("T05"));
            String atKmain = gdb.request("g");
            assertEquals(registerBytes() * 2, atEntry.length(), "32-bit entry: the full 64-bit layout");
            assertEquals(atEntry.length(), atKmain.length(), "same layout in long mode");
            int rip = TARGET.number("rip").orElseThrow();
            assertEquals(RspPackets.littleEndianHex(kmain, 8), gdb.request("p" + Integer.toHexString(rip)));
            long efer = RspPackets.littleEndian(RspPackets.unhex(gdb.request("p"
                    + Integer.toHexString(TARGET.number("efer").orElseThrow()))));
            assertEquals(0x500, efer & 0x500, "long mode active at kmain: EFER.LME and LMA");
        }
    }

    @Test
    void gReply_isEveryRegistersPReply_inLayoutOrder() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(TestKernels.defaultKernel());
             RspTestClient gdb = new RspTestClient(stub.port())) {
            gdb.continueTo(stub.boot().symbols().address("kmain"));
            // Distinct bytes in a wide register of each kind, so that a slot read at the wrong offset shows.
            assertEquals("OK", gdb.request("P" + Integer.toHexString(TARGET.number("xmm3").orElseThrow())
                    + "=00112233445566778899aabbccddeeff"));
            assertEquals("OK", gdb.request("P" + Integer.toHexString(TARGET.number("st1").orElseThrow())
                    + "=0102030405060708ff3f"));
            assertEquals("OK", gdb.request("P0=8877665544332211"));
            StringBuilder each = new StringBuilder();
            for (int number = 0; number < TARGET.registers().size(); number++) {
                each.append(gdb.request("p" + Integer.toHexString(number)));
            }
            assertEquals(each.toString(), gdb.request("g"));
        }
    }

    @Test
    void stopReplies_carryRbpRspAndRip_asThePPacketReadsThem() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(TestKernels.defaultKernel());
             RspTestClient gdb = new RspTestClient(stub.port())) {
            long kmain = stub.boot().symbols().address("kmain");
            assertEquals("OK", gdb.request("Z0," + Long.toHexString(kmain) + ",1"));
            String hit = gdb.request("c");
            assertTrue(hit.startsWith("T05thread:01;swbreak:;"), hit);
            assertExpedited(gdb, hit, RspPackets.littleEndianHex(kmain, 8));
            assertEquals("OK", gdb.request("z0," + Long.toHexString(kmain) + ",1"));
            for (int step = 0; step < 3; step++) { // kmain's prologue moves rsp and rbp
                String stepped = gdb.request("s");
                assertTrue(stepped.startsWith("T05thread:01;"), stepped);
                assertExpedited(gdb, stepped, null);
            }
        }
    }

    /** Each of rbp, rsp and rip is in {@code stop} once, with the value its p packet reads now. */
    private static void assertExpedited(RspTestClient gdb, String stop, String expectedRip) throws java.io.IOException {
        for (String name : new String[]{"rbp", "rsp", "rip"}) {
            String number = Integer.toHexString(TARGET.number(name).orElseThrow());
            String key = ";" + (number.length() == 1 ? "0" : "") + number + ":";
            int at = stop.indexOf(key);
            assertTrue(at > 0 && stop.indexOf(key, at + 1) < 0, name + " once in " + stop);
            String value = stop.substring(at + key.length(), stop.indexOf(';', at + 1));
            assertEquals(gdb.request("p" + number), value, name + " in " + stop);
            if (name.equals("rip") && expectedRip != null) {
                assertEquals(expectedRip, value, "rip at the breakpoint");
            }
        }
    }

    @Test
    void theStubsWarmUp_leavesTheGuestUnrunAndTheSessionAcknowledging() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(TestKernels.defaultKernel());
             RspTestClient gdb = new RspTestClient(stub.port())) { // request() asserts each '+': ack mode is on
            int rip = TARGET.number("rip").orElseThrow();
            assertEquals(RspPackets.littleEndianHex(stub.boot().firstInstruction(), 8), gdb.request("p" + Integer.toHexString(rip)));
            assertEquals("T05thread:01;", gdb.request("?"));
            assertEquals(0, stub.boot().machine().instructionCount(), "the warm-up executed no instruction");
        }
    }

    @Test
    void hardwareBreakpoint_isReportedAsHwbreak_andSoftwareAsSwbreak() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(TestKernels.defaultKernel());
             RspTestClient gdb = new RspTestClient(stub.port())) {
            long entry = stub.boot().symbols().address("long_mode_entry");
            long kmain = stub.boot().symbols().address("kmain");
            assertEquals("OK", gdb.request("Z1," + Long.toHexString(entry) + ",1"));
            assertEquals("OK", gdb.request("Z0," + Long.toHexString(kmain) + ",1"));
            assertTrue(gdb.request("c").contains("hwbreak:"), "stopped at long_mode_entry by the Z1 breakpoint");
            assertTrue(gdb.request("c").contains("swbreak:"), "stopped at kmain by the Z0 breakpoint");
        }
    }

    @Test
    void memory_readsThroughThePageTables_andAnUnmappedAddressIsAnError() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(TestKernels.defaultKernel());
             RspTestClient gdb = new RspTestClient(stub.port())) {
            long kmain = stub.boot().symbols().address("kmain");
            gdb.continueTo(kmain);
            String bytes = gdb.memory(kmain, 8);
            long physical = stub.boot().machine().physical(kmain);
            assertEquals(RspPackets.hex(stub.boot().machine().ram().read(physical, 8)), bytes);
            assertEquals("E14", gdb.memory(0xffff_9000_0000_0000L, 8));
            assertEquals("OK", gdb.request("M" + Long.toHexString(kmain + 0x1000) + ",2:abcd"));
            assertEquals("abcd", gdb.memory(kmain + 0x1000, 2));
            // X carries binary data with '}' escapes: 0x23 ('#') is sent as '}' 0x03
            assertEquals("OK", gdb.request("X" + Long.toHexString(kmain + 0x1000) + ",2:}\u0003A"));
            assertEquals("2341", gdb.memory(kmain + 0x1000, 2));
        }
    }

    @Test
    void memoryReads_followAPageTableSwitchByTheDebugger() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(TestKernels.defaultKernel());
             RspTestClient gdb = new RspTestClient(stub.port())) {
            long kmain = stub.boot().symbols().address("kmain");
            gdb.continueTo(kmain);
            String code = gdb.memory(kmain, 8);
            String cr3 = "p" + Integer.toHexString(TARGET.number("cr3").orElseThrow());
            String tables = gdb.request(cr3);
            // An empty top-level table (the last page of RAM, which nothing uses): nothing is mapped.
            long empty = stub.boot().machine().ram().size() - 0x1000;
            assertEquals("OK", gdb.request("P" + cr3.substring(1) + "=" + RspPackets.littleEndianHex(empty, 8)));
            assertEquals("E14", gdb.memory(kmain, 8), "translated with the new CR3, not a remembered page");
            assertEquals("OK", gdb.request("P" + cr3.substring(1) + "=" + tables));
            assertEquals(code, gdb.memory(kmain, 8));
        }
    }

    @Test
    void malformedAndUnknownPackets_getErrorOrEmptyReplies_andTheSessionGoesOn() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(TestKernels.defaultKernel());
             RspTestClient gdb = new RspTestClient(stub.port())) {
            assertEquals("E01", gdb.request("mzz,4"));
            assertEquals("E01", gdb.request("m1000"));
            assertEquals("E01", gdb.request("Z2,1000,0"));
            assertEquals("E45", gdb.request("p3e7"));
            assertEquals("", gdb.request("qNoSuchThing"));
            assertEquals("", gdb.request("vMustReplyEmpty"));
            gdb.sendRaw("$g#00"); // wrong checksum: the stub asks again and ignores the packet
            assertEquals('-', gdb.readByte());
            assertEquals("QC1", gdb.request("qC"));
        }
    }

    @Test
    void aClientThatDisconnectsMidPacket_endsTheSessionCleanly() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(TestKernels.defaultKernel())) {
            try (RspTestClient gdb = new RspTestClient(stub.port())) {
                gdb.sendRaw("$qSupported:swbr");
            }
            assertTrue(stub.ended().isEmpty(), "no exit status: the guest never ran");
        }
    }

    @Test
    void noAckMode_stopsAcknowledgements_andRunLengthRepliesDecode() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(TestKernels.defaultKernel());
             RspTestClient gdb = new RspTestClient(stub.port())) {
            assertEquals("OK", gdb.request("QStartNoAckMode"));
            gdb.sendRaw(new String(RspPackets.frame("g"), StandardCharsets.ISO_8859_1));
            String registers = gdb.readPacket(); // no '+' first in no-ack mode
            assertEquals(registerBytes() * 2, registers.length(), "decoded from a run-length encoded reply");
        }
    }

    @Test
    void ctrlC_stopsAGuestThatLoopsForever_withSigint_andItCanBeResumed() throws Exception {
        Path dir = Files.createTempDirectory("kemu-gdb-loop");
        try (StubUnderTest stub = new StubUnderTest(TestKernels.withKmain(dir, """
                spin:
                    inc rax
                    jmp spin
                """));
             RspTestClient gdb = new RspTestClient(stub.port())) {
            gdb.sendRaw(new String(RspPackets.frame("c"), StandardCharsets.ISO_8859_1));
            assertEquals('+', gdb.readByte());
            Thread.sleep(300); // the guest runs its loop meanwhile
            gdb.sendRaw("\u0003");
            assertTrue(gdb.readReply().startsWith("T02"), "interrupted: SIGINT");
            long spin = stub.boot().symbols().address("spin");
            long rip = RspPackets.littleEndian(RspPackets.unhex(gdb.request("p" + Integer.toHexString(
                    TARGET.number("rip").orElseThrow()))));
            assertTrue(rip == spin || rip == spin + 3, "stopped inside the loop, at 0x" + Long.toHexString(rip));
            long rax = RspPackets.littleEndian(RspPackets.unhex(gdb.request("p0")));
            assertTrue(rax > 1000, "the loop ran " + rax + " times before the interrupt");
            assertTrue(gdb.request("s").startsWith("T05"), "and the session goes on");
        }
    }

    @Test
    void continueToTheEnd_reportsTheExitStatusAsQemuWould() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(TestKernels.defaultKernel());
             RspTestClient gdb = new RspTestClient(stub.port())) {
            assertEquals("W01", gdb.request("c"), "kmain writes 0 to the exit port: (0 << 1) | 1");
            gdb.sendRaw(new String(RspPackets.frame("k"), StandardCharsets.ISO_8859_1));
            assertEquals(1, stub.ended().orElseThrow());
        }
    }
}
