package dev.kemu.kernel.mm;

import dev.kemu.machine.GuestRam;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Reads the NUMA topology from the ACPI tables in guest RAM, as Linux's {@code acpi_numa_init} does at boot:
 * the RSDP found by the BIOS-area scan (16-byte steps over 0xE0000-0xFFFFF, checksum over 20 bytes), its XSDT
 * (revision 2) or RSDT, the table signed "SRAT" whose checksum holds, and in it the enabled Processor Local APIC
 * Affinity (type 0) and Memory Affinity (type 1) entries. A node starts at the lowest base of its memory entries.
 * Without an SRAT, or with one kemu cannot use (proximity domains not 0..N-1, more than 8), there is one node,
 * and {@link #problem} says why.
 */
public final class SratReader {
    static final long SCAN_START = 0xe0000, SCAN_END = 0x100000;
    private static final long RSDP_SIGNATURE = 0x2052545020445352L; // "RSD PTR " little-endian
    private static final int SRAT_SIGNATURE = 0x54415253; // "SRAT"
    private static final int SRAT_ENTRIES = 48;
    /**
     * The longest table (and RSDT/XSDT) read: guest RAM is untrusted, and every byte of a table is summed, so a
     * bound keeps a hostile table list from costing more than a few milliseconds. QEMU's SRAT for 255 CPUs and
     * 8 nodes is under 5 KiB.
     */
    static final long MAX_TABLE_BYTES = 64 << 10;

    private final GuestRam ram;
    private String problem = "";

    public SratReader(GuestRam ram) {
        this.ram = ram;
    }

    /** Why the last {@link #read} fell back to one node ("" = it did not, or there was no SRAT to read). */
    public String problem() {
        return problem;
    }

    /** The topology the SRAT describes, or one node. */
    public NumaTopology read() {
        problem = "";
        Optional<Long> srat = findSrat();
        if (srat.isEmpty()) {
            return NumaTopology.single();
        }
        long table = srat.get();
        long end = table + Integer.toUnsignedLong(ram.read32(table + 4));
        TreeMap<Integer, Long> starts = new TreeMap<>();
        TreeMap<Integer, Integer> cpus = new TreeMap<>();
        for (long at = table + SRAT_ENTRIES; at + 2 <= end; ) {
            int type = ram.read8(at), length = ram.read8(at + 1);
            if (length < 2 || at + length > end) {
                problem = String.format("SRAT entry at P0x%x has length %d, which runs past the table", at, length);
                return NumaTopology.single();
            }
            if (type == 0 && length >= 16 && (ram.read32(at + 4) & 1) != 0) {
                long domain = ram.read8(at + 2) | (ram.read8(at + 9) << 8) | (Integer.toUnsignedLong(ram.read16(at + 10)) << 16);
                cpus.put(ram.read8(at + 3), (int) Math.min(domain, Integer.MAX_VALUE));
            } else if (type == 1 && length >= 40 && (ram.read32(at + 28) & 1) != 0 && ram.read64(at + 16) != 0) {
                int domain = ram.read32(at + 2);
                long base = ram.read64(at + 8);
                starts.merge(domain, base, Math::min);
            }
            at += length;
        }
        if (starts.isEmpty()) {
            problem = "the SRAT has no enabled memory affinity entry";
            return NumaTopology.single();
        }
        if (starts.size() > MmLayout.MAX_NODES || starts.firstKey() != 0 || starts.lastKey() != starts.size() - 1) {
            problem = "the SRAT's proximity domains " + starts.keySet() + " are not 0.." + (MmLayout.MAX_NODES - 1)
                    + " without gaps";
            return NumaTopology.single();
        }
        List<Long> nodeStarts = new ArrayList<>();
        for (int node = 0; node < starts.size(); node++) {
            nodeStarts.add(node == 0 ? 0 : starts.get(node) / MmLayout.PAGE);
        }
        List<Integer> cpuNodes = new ArrayList<>();
        for (var cpu : cpus.entrySet()) {
            if (cpu.getValue() >= starts.size()) {
                problem = String.format("the SRAT puts the CPU of APIC ID %d in proximity domain %d, which has no memory "
                        + "affinity entry (kemu knows no memoryless nodes)", cpu.getKey(), cpu.getValue());
                return NumaTopology.single();
            }
        }
        for (int apic = 0; apic <= (cpus.isEmpty() ? -1 : cpus.lastKey()); apic++) {
            cpuNodes.add(cpus.getOrDefault(apic, 0));
        }
        try {
            return new NumaTopology(nodeStarts, cpuNodes);
        } catch (IllegalArgumentException e) {
            problem = "the SRAT's nodes do not follow each other in memory: " + e.getMessage();
            return NumaTopology.single();
        }
    }

    /** The SRAT's physical address, if the RSDP scan finds one whose checksum holds. */
    public Optional<Long> findSrat() {
        if (ram.size() < SCAN_END) {
            return Optional.empty();
        }
        for (long at = SCAN_START; at < SCAN_END; at += 16) {
            if (ram.read64(at) == RSDP_SIGNATURE && sumsToZero(at, 20)) {
                return listedSrat(at);
            }
        }
        return Optional.empty();
    }

    /** The first table the XSDT (ACPI 2.0+) or else the RSDT lists that is signed SRAT and whose checksum holds. */
    private Optional<Long> listedSrat(long rsdp) {
        boolean xsdt = ram.read8(rsdp + 15) >= 2 && ram.read64(rsdp + 24) != 0;
        long root = xsdt ? ram.read64(rsdp + 24) : Integer.toUnsignedLong(ram.read32(rsdp + 16));
        int entryBytes = xsdt ? 8 : 4;
        if (!validTable(root)) {
            return Optional.empty();
        }
        long length = Integer.toUnsignedLong(ram.read32(root + 4));
        for (long at = root + 36; at + entryBytes <= root + length; at += entryBytes) {
            long table = xsdt ? ram.read64(at) : Integer.toUnsignedLong(ram.read32(at));
            // The signature first: only the SRAT's bytes are summed, however many tables are listed.
            if (inRam(table, 36) && ram.read32(table) == SRAT_SIGNATURE && validTable(table)) {
                return Optional.of(table);
            }
        }
        return Optional.empty();
    }

    /** {@code bytes} from {@code at} lie in RAM (written so that no sum overflows). */
    private boolean inRam(long at, long bytes) {
        return at > 0 && bytes <= ram.size() && at <= ram.size() - bytes;
    }

    private boolean validTable(long table) {
        if (!inRam(table, 36)) {
            return false;
        }
        long length = Integer.toUnsignedLong(ram.read32(table + 4));
        return length >= 36 && length <= MAX_TABLE_BYTES && inRam(table, length) && sumsToZero(table, length);
    }

    private boolean sumsToZero(long at, long length) {
        int sum = 0;
        for (long i = 0; i < length; i++) {
            sum += ram.read8(at + i);
        }
        return (sum & 0xff) == 0;
    }
}
