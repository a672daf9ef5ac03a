package dev.kemu.boot;

import dev.kemu.boot.acpi.AcpiTables;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;

import java.util.Optional;

/**
 * Where the platform's ACPI Root System Description Pointer is, for the loaders that hand it over: Limine's RSDP
 * request and Multiboot 2's ACPI old/new RSDP tags. The loader looks in guest RAM, where {@link AcpiTables} put
 * it before the kernel was loaded, and checks it as a kernel would (signature and checksum), so a machine
 * without the tables answers nothing and the loaders say so in a note.
 */
public final class AcpiRsdp {
    private AcpiRsdp() {}

    private static final byte[] SIGNATURE = "RSD PTR ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    /** The bytes the ACPI 1.0 checksum covers. */
    private static final int CHECKSUMMED = 20;

    /** The RSDP's physical address in {@code ram}, or empty when no valid RSDP is where kemu's firmware puts it. */
    public static Optional<PhysAddr> rsdpAddress(GuestRam ram) {
        PhysAddr at = AcpiTables.RSDP;
        if (at.value() + CHECKSUMMED > ram.size()
                || !java.util.Arrays.equals(ram.read(at.value(), SIGNATURE.length), SIGNATURE)) {
            return Optional.empty();
        }
        int sum = 0;
        for (byte b : ram.read(at.value(), CHECKSUMMED)) {
            sum += b;
        }
        return (sum & 0xff) == 0 ? Optional.of(at) : Optional.empty();
    }

    /** The RSDP revision byte (0: ACPI 1.0, 20 bytes; 2 and up: 36 bytes with the XSDT address). */
    public static int revision(GuestRam ram, PhysAddr rsdp) {
        return ram.read8(rsdp.value() + 15);
    }

    /** The RSDP's length: 20 bytes for revision 0, else its {@code length} field. */
    public static int length(GuestRam ram, PhysAddr rsdp) {
        return revision(ram, rsdp) == 0 ? 20 : ram.read32(rsdp.value() + 20);
    }
}
