package dev.kemu.gdb;

import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code monitor whatis} through the remote protocol, at kmain. */
class MonitorWhatIsTest {

    @Test
    void whatis_namesTheSymbolAndRegion_atKmain() throws Exception {
        try (StubUnderTest stub = new StubUnderTest(TestKernels.defaultKernel());
             RspTestClient gdb = new RspTestClient(stub.port())) {
            // At kmain the CPU is in long mode: at the first instruction (paging off) PageWalker fails on a
            // 64-bit address, which monitor explain shares (reported to the lead, not worked around here).
            gdb.continueTo(stub.boot().symbols().address("kmain"));
            String atEntry = monitor(gdb, "whatis kernel_stack+0x10");
            assertTrue(atEntry.contains("symbol: kernel_stack+0x10\n"), atEntry);
            assertTrue(atEntry.contains("region: kernel image section .bss [V0x"), atEntry);
            String physical = monitor(gdb, "whatis P0xzz");
            assertTrue(physical.startsWith("not an address: 'P0xzz'"), physical);
            assertTrue(monitor(gdb, "help").contains("whatis ADDR|SYMBOL"));
        }
    }

    private static String monitor(RspTestClient gdb, String command) throws Exception {
        gdb.sendRaw(new String(RspPackets.frame("qRcmd," + RspPackets.hex(command)), StandardCharsets.ISO_8859_1));
        gdb.readByte(); // ack
        String output = gdb.readPacket();
        assertTrue(output.startsWith("O"), "monitor " + command + " answered " + output);
        assertEquals("OK", gdb.readPacket());
        return new String(RspPackets.unhex(output.substring(1)), StandardCharsets.UTF_8);
    }
}
