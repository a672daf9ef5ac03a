package dev.kemu.machine.devices;

import dev.kemu.machine.interrupts.IrqLine;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The 8259A pair's registers and INTA cycle, driven through its ports as a kernel does. */
class DualPicTest {
    private final DualPic pic = new DualPic(() -> { });

    private void out(int port, int value) {
        pic.write(null, port, 1, value);
    }

    private int in(int port) {
        return pic.read(null, port, 1);
    }

    private void remap() {
        out(0x20, 0x11);
        out(0xa0, 0x11);
        out(0x21, 0x20);
        out(0xa1, 0x28);
        out(0x21, 0x04);
        out(0xa1, 0x02);
        out(0x21, 0x01);
        out(0xa1, 0x01);
    }

    @Test
    void reset_isWhatABiosLeaves_vectors8And0x70_allMaskedButTheCascade() {
        assertEquals(0xfb, in(0x21));
        assertEquals(0xff, in(0xa1));
    }

    @Test
    void icw1_clearsTheMask_icw2SetsTheVectorBase() {
        remap();
        assertEquals(0, in(0x21), "initialisation clears IMR");
        pic.line(3).pulse();
        assertTrue(pic.interruptRequested());
        assertEquals(0x23, pic.acknowledge());
    }

    @Test
    void fixedPriority_lowerIrqFirst_andInServiceBlocksLowerPriority() {
        remap();
        pic.line(5).pulse();
        pic.line(1).pulse();
        assertEquals(0x21, pic.acknowledge());
        assertFalse(pic.interruptRequested(), "IRQ5 waits while IRQ1 is in service");
        out(0x20, 0x20); // non-specific EOI
        assertEquals(0x25, pic.acknowledge());
    }

    @Test
    void ocw3_selectsIrrOrIsrOnTheCommandPort() {
        remap();
        pic.line(4).pulse();
        out(0x20, 0x0a); // read IRR
        assertEquals(0x10, in(0x20));
        pic.acknowledge();
        out(0x20, 0x0b); // read ISR
        assertEquals(0x10, in(0x20));
        out(0x20, 0x64); // specific EOI for IRQ4
        assertEquals(0, in(0x20));
    }

    @Test
    void mask_holdsTheRequest_untilUnmasked() {
        remap();
        out(0x21, 0x01);
        pic.line(0).pulse();
        assertFalse(pic.interruptRequested());
        out(0x21, 0x00);
        assertEquals(0x20, pic.acknowledge());
    }

    @Test
    void edgeTriggered_aLineHeldHighRequestsOnce() {
        remap();
        IrqLine irq4 = pic.line(4);
        irq4.set(true);
        assertEquals(0x24, pic.acknowledge());
        out(0x20, 0x20);
        irq4.set(true);
        assertFalse(pic.interruptRequested(), "no new edge");
        irq4.set(false);
        irq4.set(true);
        assertTrue(pic.interruptRequested());
    }

    @Test
    void slaveRequestGone_beforeInta_isTheSpuriousIrq15_withTheCascadeInService() {
        remap();
        pic.line(9).pulse();
        assertTrue(pic.interruptRequested());
        out(0xa1, 0x02); // mask IRQ9 at the slave: its request no longer reaches INTA
        assertEquals(0x2f, pic.acknowledge(), "slave base + 7");
        out(0x20, 0x0b);
        assertEquals(0x04, in(0x20), "the master's IR2 is in service and needs its EOI");
        out(0xa0, 0x0b);
        assertEquals(0, in(0xa0), "nothing in service on the slave");
    }

    @Test
    void intaWithNothingPending_isTheSpuriousIrq7_withNothingInService() {
        remap();
        assertEquals(0x27, pic.acknowledge());
        out(0x20, 0x0b);
        assertEquals(0, in(0x20));
    }

    @Test
    void slaveIrq_arrivesThroughTheCascade() {
        remap();
        pic.line(12).pulse();
        assertEquals(0x2c, pic.acknowledge());
        out(0xa0, 0x0b);
        assertEquals(0x10, in(0xa0));
    }

    @Test
    void autoEoi_leavesNothingInService() {
        out(0x20, 0x11);
        out(0x21, 0x20);
        out(0x21, 0x04);
        out(0x21, 0x03); // ICW4: 8086, auto-EOI
        pic.line(2 + 1).pulse();
        assertEquals(0x23, pic.acknowledge());
        out(0x20, 0x0b);
        assertEquals(0, in(0x20));
    }
}
