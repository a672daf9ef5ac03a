package dev.kemu.boot.acpi;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;

import java.util.Optional;

/**
 * The ACPI tables kemu's loader writes before the handoff, as SeaBIOS does under QEMU, so that a
 * kernel finds its CPUs and the IOAPIC the way it would on a PC:
 *
 * <pre>
 *   P0xf0000            RSDP, revision 2 (36 bytes; 16-byte aligned in the BIOS area the usual scan covers)
 *   top of RAM - 128K   RSDT at +0x000, XSDT at +0x040 (each listing the MADT, then the SRAT if any),
 *                       MADT at +0x080, SRAT at +0x1000 (only with more than one NUMA node, as QEMU builds
 *                       one only for {@code -numa})
 * </pre>
 *
 * Both ranges are reserved in the Multiboot memory map ({@code MultibootInfo.pcMemoryMap}), and neither
 * overlaps the information block (P0x7000), the firmware stub, the kernel or its modules, which live in
 * usable RAM from 1 MiB up to the reserved top. There is no FADT/DSDT: kemu has none of the power-management
 * hardware an FADT describes (PM1 blocks, SCI), and the kernels kemu targets read only the MADT (and the SRAT
 * for NUMA).
 */
public final class AcpiTables {
    /** Where the RSDP goes: the start of the BIOS area (0xE0000-0xFFFFF is what kernels scan). */
    public static final PhysAddr RSDP = PhysAddr.of(0xf0000);
    /** How far below the end of RAM the other tables start (the top 128 KiB the memory map reserves). */
    public static final long TOP_RESERVE = 0x20000;
    static final long RSDT_OFFSET = 0x000, XSDT_OFFSET = 0x040, MADT_OFFSET = 0x080, SRAT_OFFSET = 0x1000;
    static final String OEM_ID = "KEMU  ";
    static final String OEM_TABLE_ID = "KEMUPC  ";

    /** Where the tables went; {@link #rsdp()} is what a Limine or UEFI-style loader hands the kernel. */
    public record Placement(PhysAddr rsdp, PhysAddr rsdt, PhysAddr xsdt, PhysAddr madt, Optional<PhysAddr> srat) {}

    private AcpiTables() {}

    /** Writes the RSDP, RSDT, XSDT and a MADT for {@code cpus} CPUs with APIC IDs 0 to cpus-1. */
    public static Placement write(GuestRam ram, int cpus) {
        return write(ram, cpus, 1);
    }

    /** {@link #write(GuestRam, int)} with RAM split into {@code nodes} NUMA nodes, which an SRAT describes ({@link Srat}). */
    public static Placement write(GuestRam ram, int cpus, int nodes) {
        if (ram.size() < 2 * TOP_RESERVE + 0x100000) {
            throw new IllegalArgumentException(String.format("guest RAM of 0x%x bytes has no room for ACPI tables "
                    + "below its top; give it at least 2 MiB", ram.size()));
        }
        long base = ram.size() - TOP_RESERVE;
        long madt = base + MADT_OFFSET;
        byte[] madtBytes = Madt.build(cpus);
        ram.write(madt, madtBytes);
        long[] entries = {madt};
        Optional<PhysAddr> srat = Optional.empty();
        if (nodes > 1) {
            long at = base + SRAT_OFFSET;
            ram.write(at, Srat.build(ram.size(), cpus, nodes));
            entries = new long[] {madt, at};
            srat = Optional.of(PhysAddr.of(at));
        }
        long rsdt = base + RSDT_OFFSET;
        ram.write(rsdt, pointerTable("RSDT", 1, entries, 4));
        long xsdt = base + XSDT_OFFSET;
        ram.write(xsdt, pointerTable("XSDT", 1, entries, 8));
        ram.write(RSDP.value(), rsdp(rsdt, xsdt));
        return new Placement(RSDP, PhysAddr.of(rsdt), PhysAddr.of(xsdt), PhysAddr.of(madt), srat);
    }

    /** An RSDT (4-byte entries) or XSDT (8-byte entries) pointing at the tables {@code entries}. */
    private static byte[] pointerTable(String signature, int revision, long[] entries, int entryBytes) {
        SdtWriter table = new SdtWriter(signature, revision);
        for (long entry : entries) {
            if (entryBytes == 4) {
                table.u32(entry);
            } else {
                table.u64(entry);
            }
        }
        return table.finish();
    }

    /**
     * The Root System Description Pointer, ACPI 2.0 form: "RSD PTR ", checksum over the first 20 bytes,
     * OEM ID, revision 2, RSDT address, length 36, XSDT address, extended checksum over all 36 bytes.
     */
    private static byte[] rsdp(long rsdt, long xsdt) {
        ByteWriter out = new ByteWriter(36);
        out.ascii("RSD PTR ");
        out.u8(0); // checksum, below
        out.ascii(OEM_ID);
        out.u8(2);
        out.u32(rsdt);
        out.u32(36);
        out.u64(xsdt);
        out.u8(0); // extended checksum, below
        out.zeros(3);
        byte[] bytes = out.bytes();
        bytes[8] = checksum(bytes, 0, 20);
        bytes[32] = checksum(bytes, 0, 36);
        return bytes;
    }

    /** The byte that makes {@code bytes[from, from+length)} sum to zero modulo 256 (with itself at 0 first). */
    static byte checksum(byte[] bytes, int from, int length) {
        int sum = 0;
        for (int i = from; i < from + length; i++) {
            sum += bytes[i];
        }
        return (byte) -sum;
    }
}
