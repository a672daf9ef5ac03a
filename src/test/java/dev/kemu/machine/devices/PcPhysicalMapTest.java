package dev.kemu.machine.devices;

import dev.kemu.machine.PcPhysicalMap;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The names an unmapped access gets, from the PC's physical map. */
class PcPhysicalMapTest {
    private final PcPhysicalMap pc = new PcPhysicalMap(64L << 20);

    @Test
    void localApic_namesEachRegister_andEachBankOfTheIsr() {
        assertEquals("local APIC ID register", pc.describe(0xfee00020L));
        assertEquals("local APIC EOI register", pc.describe(0xfee000b0L));
        assertEquals("local APIC in-service register (ISR) bits 64-95", pc.describe(0xfee00120L));
        assertEquals("local APIC timer initial count register", pc.describe(0xfee00380L));
        assertEquals("local APIC (offset 0x3f0)", pc.describe(0xfee003f0L), "a reserved slot is an offset");
    }

    @Test
    void otherPcDevices_andTheRestAboveRam() {
        assertEquals("I/O APIC register window (IOWIN)", pc.describe(0xfec00010L));
        assertEquals("HPET main counter", pc.describe(0xfed000f0L));
        assertEquals("PCI Express MMCONFIG (ECAM) window of QEMU's q35", pc.describe(0xb0008000L));
        assertEquals("BIOS ROM, the flash just below 4 GiB where the CPU starts", pc.describe(0xfffffff0L));
        assertEquals("above the end of guest RAM (64 MiB)", pc.describe(64L << 20));
        assertEquals("above the end of guest RAM (64 MiB)", pc.describe(1L << 40));
        assertEquals("BIOS ROM, the system BIOS below 1 MiB", pc.describe(0xf0000));
        assertEquals("guest RAM", pc.describe(0x1000));
    }
}
