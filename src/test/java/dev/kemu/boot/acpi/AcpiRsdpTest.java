package dev.kemu.boot.acpi;

import dev.kemu.boot.AcpiRsdp;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What the Limine and Multiboot 2 loaders hand over: the RSDP in guest RAM, checked as a kernel checks it. */
class AcpiRsdpTest {
    private static final long RAM = 8L << 20;

    @Test
    void theLoaders_findTheRsdpTheTablesWrote_withItsRevisionAndLength() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = new GuestRam(arena.allocate(RAM));
            assertEquals(Optional.empty(), AcpiRsdp.rsdpAddress(ram), "no tables written: nothing to hand over");
            AcpiTables.Placement placement = AcpiTables.write(ram, 2);
            PhysAddr rsdp = AcpiRsdp.rsdpAddress(ram).orElseThrow();
            assertEquals(placement.rsdp(), rsdp);
            assertEquals(2, AcpiRsdp.revision(ram, rsdp));
            assertEquals(36, AcpiRsdp.length(ram, rsdp));
        }
    }

    @Test
    void anRsdpWithABadChecksum_isNotHandedOver() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = new GuestRam(arena.allocate(RAM));
            AcpiTables.write(ram, 1);
            long oem = AcpiTables.RSDP.value() + 9;
            ram.write8(oem, ram.read8(oem) + 1);
            assertEquals(Optional.empty(), AcpiRsdp.rsdpAddress(ram), "a kernel would reject it, so the loader does");
        }
    }
}
