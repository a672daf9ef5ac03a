package dev.kemu.boot.acpi;

import dev.kemu.boot.BootOptions;
import dev.kemu.kernel.mm.NumaTopology;
import dev.kemu.kernel.mm.SratReader;
import dev.kemu.machine.GuestRam;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The SRAT as a kernel reads it: listed in RSDT and XSDT after the MADT, checksummed, its processor and memory
 * affinity entries decoded field by field here (independently of {@link Srat}), and the topology the kernel's
 * {@link SratReader} derives from it equal to RAM split into equal nodes with CPUs round-robin.
 */
class SratTest {
    record Affinity(String kind, int node, long a, long b) {}

    /** Decodes the entries of the SRAT at {@code table}: ("cpu", node, APIC ID, flags), ("mem", node, base, length). */
    static List<Affinity> entries(GuestRam ram, long table) {
        AcpiReader reader = new AcpiReader(ram);
        int length = reader.checkedTable(table, "SRAT");
        assertEquals(1, ram.read32(table + 36), "reserved field 1, for backward compatibility");
        List<Affinity> out = new ArrayList<>();
        for (long at = table + 48; at < table + length; ) {
            ByteBuffer e = ByteBuffer.wrap(ram.read(at, ram.read8(at + 1))).order(ByteOrder.LITTLE_ENDIAN);
            switch (e.get(0)) {
                case 0 -> {
                    assertEquals(16, e.limit());
                    int node = (e.get(2) & 0xff) | (e.get(9) & 0xff) << 8 | (e.getShort(10) & 0xffff) << 16;
                    out.add(new Affinity("cpu", node, e.get(3) & 0xff, e.getInt(4)));
                }
                case 1 -> {
                    assertEquals(40, e.limit());
                    assertEquals(1, e.getInt(28), "flags: enabled, not hot-pluggable, not non-volatile");
                    out.add(new Affinity("mem", e.getInt(2), e.getLong(8), e.getLong(16)));
                }
                default -> fail("unexpected SRAT entry type " + e.get(0));
            }
            at += e.limit();
        }
        return out;
    }

    @Test
    void twoNodesOf128MiB_asQemusMinus_numa_node_mem128M_cpus0_and_cpus1() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = new GuestRam(arena.allocate(256L << 20));
            AcpiTables.Placement placement = AcpiTables.write(ram, 2, 2);
            AcpiReader reader = new AcpiReader(ram);
            AcpiReader.Rsdp rsdp = reader.findRsdp().orElseThrow();
            long srat = placement.srat().orElseThrow().value();
            assertEquals(List.of(placement.madt().value(), srat), reader.entries(rsdp.xsdt(), "XSDT", 8));
            assertEquals(List.of(placement.madt().value(), srat), reader.entries(rsdp.rsdt(), "RSDT", 4));
            assertEquals(List.of(
                    new Affinity("cpu", 0, 0, 1), new Affinity("cpu", 1, 1, 1),
                    new Affinity("mem", 0, 0, 0xa0000), new Affinity("mem", 0, 0x100000, (128L << 20) - 0x100000),
                    new Affinity("mem", 1, 128L << 20, 128L << 20)), entries(ram, srat));
            SratReader kernel = new SratReader(ram);
            assertEquals(new NumaTopology(List.of(0L, (128L << 20) / 4096), List.of(0, 1)), kernel.read());
            assertEquals("", kernel.problem());
        }
    }

    @Property(tries = 30)
    void anySplit_readsBackAsEqualNodes_withCpusRoundRobin(@ForAll @IntRange(min = 2, max = 8) int nodes,
                                                          @ForAll @IntRange(min = 1, max = 20) int cpus,
                                                          @ForAll @IntRange(min = 16, max = 200) int ramMiB) {
        long ramBytes = Math.max(ramMiB, nodes * 8L) << 20;
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = new GuestRam(arena.allocate(ramBytes));
            AcpiTables.write(ram, cpus, nodes);
            long nodeBytes = ramBytes / nodes / (4L << 20) * (4L << 20);
            NumaTopology read = new SratReader(ram).read();
            assertEquals(NumaTopology.equalNodes(nodes, nodeBytes / 4096, cpus), read);
            List<Affinity> memory = entries(ram, new SratReader(ram).findSrat().orElseThrow()).stream()
                    .filter(a -> a.kind().equals("mem")).toList();
            assertEquals(ramBytes - 0x60000, memory.stream().mapToLong(Affinity::b).sum(),
                    "all RAM but the 640 KiB-1 MiB hole has a node");
        }
    }

    @Test
    void oneNode_writesNoSrat_andTheKernelSeesOneNode() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = new GuestRam(arena.allocate(64L << 20));
            AcpiTables.Placement placement = AcpiTables.write(ram, 4, 1);
            assertTrue(placement.srat().isEmpty());
            assertEquals(List.of(placement.madt().value()),
                    new AcpiReader(ram).entries(new AcpiReader(ram).findRsdp().orElseThrow().xsdt(), "XSDT", 8));
            assertEquals(NumaTopology.single(), new SratReader(ram).read());
        }
    }

    @Test
    void aBrokenChecksum_hidesTheSrat_andTheKernelFallsBackToOneNode() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = new GuestRam(arena.allocate(64L << 20));
            long srat = AcpiTables.write(ram, 2, 2).srat().orElseThrow().value();
            ram.write8(srat + 60, ram.read8(srat + 60) ^ 1);
            assertEquals(NumaTopology.single(), new SratReader(ram).read());
        }
    }

    /** Sets the checksum byte (offset 9) of the ACPI table at {@code table} so that its bytes sum to zero again. */
    private static void fixChecksum(GuestRam ram, long table) {
        int length = ram.read32(table + 4), sum = 0;
        ram.write8(table + 9, 0);
        for (int i = 0; i < length; i++) {
            sum += ram.read8(table + i);
        }
        ram.write8(table + 9, (-sum) & 0xff);
    }

    @Test
    void anXsdtEntryNearTheTopOfTheAddressSpace_isSkipped_notAHostError() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = new GuestRam(arena.allocate(64L << 20));
            AcpiTables.write(ram, 2, 2);
            long xsdt = new AcpiReader(ram).findRsdp().orElseThrow().xsdt();
            ram.write64(xsdt + 36, 0x7fff_ffff_ffff_ffe0L); // the MADT's slot: table + 36 overflows a long
            fixChecksum(ram, xsdt);
            SratReader kernel = new SratReader(ram);
            assertEquals(2, kernel.read().count(), kernel.problem());
        }
    }

    @Test
    void aCpuInADomainWithoutMemory_fallsBackToOneNode_namingTheCpuAndDomain() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = new GuestRam(arena.allocate(64L << 20));
            long srat = AcpiTables.write(ram, 2, 2).srat().orElseThrow().value();
            ram.write8(srat + 48 + 16 + 2, 5); // the second CPU entry's domain, low byte
            fixChecksum(ram, srat);
            SratReader kernel = new SratReader(ram);
            assertEquals(NumaTopology.single(), kernel.read());
            assertTrue(kernel.problem().contains("APIC ID 1 in proximity domain 5"), kernel.problem());
        }
    }

    @Test
    void tooManyNodes_orNodesTooSmall_areRefusedWithWhatToDo() {
        IllegalArgumentException many = assertThrows(IllegalArgumentException.class, () -> Srat.checkNodes(1L << 30, 9));
        assertTrue(many.getMessage().contains("1 to 8"), many.getMessage());
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                () -> BootOptions.defaults().withNumaNodes(16));
        assertTrue(small.getMessage().contains("16 NUMA nodes"), small.getMessage());
        IllegalArgumentException tight = assertThrows(IllegalArgumentException.class, () -> Srat.checkNodes(32L << 20, 5));
        assertTrue(tight.getMessage().contains("at least 8 MiB") && tight.getMessage().contains("fewer nodes"),
                tight.getMessage());
    }
}
