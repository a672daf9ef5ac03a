package dev.kemu.boot.acpi;

/**
 * The Multiple APIC Description Table ("APIC") as QEMU's pc machine builds it: the local APIC address
 * 0xfee00000, flag PCAT_COMPAT (dual 8259s present), then
 *
 * <pre>
 *   type 0, 8 bytes   Processor Local APIC   ACPI UID, APIC ID, flags = 1 (enabled)   one per CPU
 *   type 1, 12 bytes  I/O APIC               ID 0, reserved, address 0xfec00000, GSI base 0
 *   type 2, 10 bytes  Interrupt Source Override  bus 0 (ISA), IRQ, GSI, MPS INTI flags
 *                     IRQ0 -> GSI2 (flags 0: conforms to the bus); IRQ 5, 9, 10, 11 -> same GSI,
 *                     flags 0xd (active high, level triggered: the PCI interrupt lines)
 *   type 4, 6 bytes   Local APIC NMI         every processor (UID 0xff), flags 0, LINT1
 * </pre>
 */
public final class Madt {
    public static final long LOCAL_APIC_ADDRESS = 0xfee00000L;
    public static final long IOAPIC_ADDRESS = 0xfec00000L;
    public static final int IOAPIC_ID = 0;
    public static final int MAX_CPUS = 255;
    public static final int TYPE_LOCAL_APIC = 0, TYPE_IOAPIC = 1, TYPE_SOURCE_OVERRIDE = 2, TYPE_LOCAL_APIC_NMI = 4;
    /** MPS INTI flags: polarity active high (01) in bits 0-1, trigger level (11) in bits 2-3. */
    public static final int LEVEL_ACTIVE_HIGH = 0xd;
    private static final int PCAT_COMPAT = 1;
    private static final int[] LEVEL_IRQS = {5, 9, 10, 11};

    private Madt() {}

    static byte[] build(int cpus) {
        if (cpus < 1 || cpus > MAX_CPUS) {
            throw new IllegalArgumentException("a MADT lists 1 to " + MAX_CPUS + " CPUs (xAPIC IDs), not " + cpus);
        }
        SdtWriter table = new SdtWriter("APIC", 1);
        table.u32(LOCAL_APIC_ADDRESS);
        table.u32(PCAT_COMPAT);
        for (int cpu = 0; cpu < cpus; cpu++) {
            table.u8(TYPE_LOCAL_APIC);
            table.u8(8);
            table.u8(cpu); // ACPI processor UID
            table.u8(cpu); // APIC ID
            table.u32(1); // enabled
        }
        table.u8(TYPE_IOAPIC);
        table.u8(12);
        table.u8(IOAPIC_ID);
        table.u8(0);
        table.u32(IOAPIC_ADDRESS);
        table.u32(0);
        sourceOverride(table, 0, 2, 0);
        for (int irq : LEVEL_IRQS) {
            sourceOverride(table, irq, irq, LEVEL_ACTIVE_HIGH);
        }
        table.u8(TYPE_LOCAL_APIC_NMI);
        table.u8(6);
        table.u8(0xff);
        table.u16(0);
        table.u8(1);
        return table.finish();
    }

    private static void sourceOverride(SdtWriter table, int irq, int gsi, int flags) {
        table.u8(TYPE_SOURCE_OVERRIDE);
        table.u8(10);
        table.u8(0); // ISA
        table.u8(irq);
        table.u32(gsi);
        table.u16(flags);
    }
}
