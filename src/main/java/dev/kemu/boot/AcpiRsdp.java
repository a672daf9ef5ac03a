package dev.kemu.boot;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;

import java.util.Optional;

/**
 * Where the platform's ACPI Root System Description Pointer is, for the loaders that hand it over: Limine's RSDP
 * request and Multiboot 2's ACPI old/new RSDP tags. kemu's firmware has no ACPI tables yet, so nothing is answered
 * and both loaders say so in a note; the platform's tables connect here.
 */
public final class AcpiRsdp {
    private AcpiRsdp() {}

    /** The RSDP's physical address in {@code ram}, or empty while the firmware builds no ACPI tables. */
    public static Optional<PhysAddr> rsdpAddress(GuestRam ram) {
        return Optional.empty();
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
