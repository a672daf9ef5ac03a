package dev.kemu.machine.smp;

import dev.kemu.machine.CodeSegment;
import dev.kemu.machine.Machine;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The router's INIT and STARTUP, called directly as a local APIC's ICR would call them. */
class IpiRouterTest {
    @Test
    void anAp_waitsInRealModeAfterInit_andStartsAtTheVectorsPageOnStartup() {
        try (SmpGuest guest = new SmpGuest(2)) {
            Machine ap = guest.cpus.machine(1);
            assertEquals(CpuState.WAIT_FOR_STARTUP, guest.cpus.state(1), "APs power on waiting");
            assertEquals(0, ap.register(X86Reg.CR0) & 1, "real mode");
            assertEquals(0, ap.msr(0xc0000080) & 0x500, "EFER.LME and LMA clear");

            // Real mode at 0900:0000: store CS and a marker, then halt.
            guest.bsp.ram().write(0x9000, FlatBinary.assemble("""
                    .code16
                        mov ax, cs
                        mov ds, ax
                        mov [0x100], ax
                        mov word ptr [0x102], 0x5a5a
                        cli
                        hlt
                    """, 0));
            guest.cpus.startup(0, 1, 0x09);
            guest.cpus.startup(0, 1, 0x09);
            guest.cpus.deliverPendingIpis();
            assertEquals(CpuState.RUNNING, guest.cpus.state(1));
            guest.loadBsp("cli\nhlt\n");
            guest.run();
            assertEquals(0x0900, guest.bsp.ram().read16(0x9100), "CS = vector << 8");
            assertEquals(0x5a5a, guest.bsp.ram().read16(0x9102), "DS-relative data at the vector's page");
            CodeSegment cs = ap.codeSegment();
            assertEquals(0x9000, cs.base(), "CS base = vector << 12");
            assertEquals(CpuState.HALTED, guest.cpus.state(1));

            guest.cpus.startup(0, 1, 0x09);
            guest.cpus.deliverPendingIpis();
            assertEquals(CpuState.HALTED, guest.cpus.state(1), "STARTUP without INIT first is ignored, as on hardware");

            guest.cpus.init(0, 1);
            guest.cpus.deliverPendingIpis();
            assertEquals(CpuState.WAIT_FOR_STARTUP, guest.cpus.state(1), "INIT resets the AP");
            assertEquals(0, ap.register(X86Reg.CR0) & 1);
        }
    }

    @Test
    void initAndStartup_takeEffectInTheOrderSent_andInitOfTheBootstrapCpuIsIgnored() {
        try (SmpGuest guest = new SmpGuest(3)) {
            guest.cpus.startup(0, 2, 0x08);
            guest.cpus.init(0, 0);
            guest.cpus.init(0, 2);
            assertEquals(CpuState.WAIT_FOR_STARTUP, guest.cpus.state(2), "nothing happens before the sender's turn ends");
            guest.cpus.deliverPendingIpis();
            assertEquals(CpuState.WAIT_FOR_STARTUP, guest.cpus.state(2), "STARTUP then INIT: started, then reset");
            assertEquals(CpuState.RUNNING, guest.cpus.state(0));
            assertArrayEquals(new int[]{0, 1, 2}, guest.cpus.apicIds());
        }
    }

    @Test
    void fixedIpis_goToTheConnectedSink_andToNoCpuThatDoesNotExist() {
        try (SmpGuest guest = new SmpGuest(2)) {
            List<String> delivered = new ArrayList<>();
            guest.cpus.connectFixedIpis((target, source, vector) -> delivered.add(source + "->" + target + ":" + vector));
            guest.cpus.fixed(0, 1, 0x40);
            guest.cpus.fixed(1, 0, 0x41);
            guest.cpus.fixed(0, 7, 0x42);
            assertEquals(List.of("0->1:64", "1->0:65"), delivered);
        }
    }
}
