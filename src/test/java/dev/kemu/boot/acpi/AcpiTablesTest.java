package dev.kemu.boot.acpi;

import dev.kemu.boot.MemoryMapEntry;
import dev.kemu.boot.MultibootInfo;
import dev.kemu.machine.GuestRam;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tables as a kernel finds them: the RSDP scan, checksums, RSDT and XSDT to the MADT, and its entries. */
class AcpiTablesTest {
    private static final long RAM = 64L << 20;

    @ParameterizedTest(name = "{0} CPUs")
    @ValueSource(ints = {1, 2, 4, 255})
    void theMadt_listsOneEnabledLocalApicPerCpu_theIoApic_andQemusSourceOverrides(int cpus) {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = new GuestRam(arena.allocate(RAM));
            AcpiTables.Placement placement = AcpiTables.write(ram, cpus);
            AcpiReader reader = new AcpiReader(ram);

            AcpiReader.Rsdp rsdp = reader.findRsdp().orElseThrow(() -> new AssertionError("the scan found no RSDP"));
            assertEquals(placement.rsdp().value(), rsdp.address());
            assertEquals(2, rsdp.revision());
            List<Long> viaXsdt = reader.entries(rsdp.xsdt(), "XSDT", 8);
            List<Long> viaRsdt = reader.entries(rsdp.rsdt(), "RSDT", 4);
            assertEquals(List.of(placement.madt().value()), viaXsdt);
            assertEquals(viaXsdt, viaRsdt);

            AcpiReader.Madt madt = reader.madt(viaXsdt.getFirst());
            assertEquals(0xfee00000L, madt.localApicAddress());
            assertEquals(1, madt.flags(), "PCAT_COMPAT: the 8259s are there");
            List<AcpiReader.MadtEntry> lapics = madt.entries().stream().filter(e -> e.type() == 0).toList();
            assertEquals(cpus, lapics.size());
            for (int i = 0; i < cpus; i++) {
                assertArrayEquals(new byte[]{(byte) i, (byte) i, 1, 0, 0, 0}, lapics.get(i).body(), "UID, APIC ID, enabled");
            }
            List<AcpiReader.MadtEntry> ioapics = madt.entries().stream().filter(e -> e.type() == 1).toList();
            assertEquals(1, ioapics.size());
            assertArrayEquals(new byte[]{0, 0, 0, 0, (byte) 0xc0, (byte) 0xfe, 0, 0, 0, 0}, ioapics.getFirst().body(),
                    "ID 0 at 0xfec00000, GSI base 0");
            List<String> overrides = madt.entries().stream().filter(e -> e.type() == 2)
                    .map(e -> String.format("bus %d irq %d -> gsi %d flags 0x%x", e.body()[0], e.body()[1],
                            (e.body()[2] & 0xff) | (e.body()[3] & 0xff) << 8, (e.body()[6] & 0xff) | (e.body()[7] & 0xff) << 8))
                    .toList();
            assertEquals(List.of("bus 0 irq 0 -> gsi 2 flags 0x0", "bus 0 irq 5 -> gsi 5 flags 0xd",
                    "bus 0 irq 9 -> gsi 9 flags 0xd", "bus 0 irq 10 -> gsi 10 flags 0xd",
                    "bus 0 irq 11 -> gsi 11 flags 0xd"), overrides);
        }
    }

    @Test
    void everyTable_liesInRangesTheMultibootMemoryMapReserves() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = new GuestRam(arena.allocate(RAM));
            AcpiTables.Placement placement = AcpiTables.write(ram, 255);
            AcpiReader reader = new AcpiReader(ram);
            List<MemoryMapEntry> map = MultibootInfo.pcMemoryMap(RAM);
            long madtLength = reader.checkedTable(placement.madt().value(), "APIC");
            for (long[] range : new long[][]{{placement.rsdp().value(), 36}, {placement.rsdt().value(), 40},
                    {placement.xsdt().value(), 44}, {placement.madt().value(), madtLength}}) {
                assertTrue(map.stream().anyMatch(e -> e.type() == MemoryMapEntry.RESERVED && e.base() <= range[0]
                        && range[0] + range[1] <= e.end()), String.format("[0x%x, +0x%x) reserved in %s", range[0], range[1], map));
            }
            assertTrue(placement.madt().value() + madtLength <= RAM);
        }
    }

    @Test
    void aCpuCountAnXApicCannotNumber_isRefusedWithTheRange() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = new GuestRam(arena.allocate(RAM));
            IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> AcpiTables.write(ram, 256));
            assertEquals("a MADT lists 1 to 255 CPUs (xAPIC IDs), not 256", error.getMessage());
        }
    }
}
