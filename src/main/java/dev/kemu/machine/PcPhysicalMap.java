package dev.kemu.machine;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a PC (QEMU's {@code pc}/{@code q35} machines) has at a physical address that kemu does
 * not emulate, so that an access there can say which device the kernel was looking for
 * ("P0xfee00020: local APIC ID register") instead of only that Unicorn could not serve it.
 * Register names come from the Intel SDM (local APIC, vol. 3 table 11-1), the 82093AA IOAPIC
 * and the IA-PC HPET specifications.
 */
public final class PcPhysicalMap {
    /** A device window {@code [first, last]} and the names of its registers by offset. */
    private record Window(long first, long last, String device, java.util.NavigableMap<Long, String> registers) {
        Window(long first, long last, String device, Map<Long, String> registers) {
            this(first, last, device, java.util.Collections.unmodifiableNavigableMap(new TreeMap<>(registers)));
        }

        boolean contains(long address) {
            return Long.compareUnsigned(address, first) >= 0 && Long.compareUnsigned(address, last) <= 0;
        }

        String describe(long address) {
            long offset = address - first;
            if (registers.isEmpty()) {
                return device; // memory, not registers: an offset would say nothing
            }
            Map.Entry<Long, String> register = registers.floorEntry(offset);
            // A register is 16 bytes apart in the APIC and IOAPIC; name it only within its own slot.
            if (register != null && offset - register.getKey() < 0x10) {
                return device + " " + register.getValue();
            }
            return String.format("%s (offset 0x%x)", device, offset);
        }
    }

    private static final Map<Long, String> LOCAL_APIC = Map.ofEntries(
            Map.entry(0x020L, "ID register"), Map.entry(0x030L, "version register"),
            Map.entry(0x080L, "task priority register (TPR)"), Map.entry(0x090L, "arbitration priority register"),
            Map.entry(0x0a0L, "processor priority register"), Map.entry(0x0b0L, "EOI register"),
            Map.entry(0x0c0L, "remote read register"), Map.entry(0x0d0L, "logical destination register"),
            Map.entry(0x0e0L, "destination format register"), Map.entry(0x0f0L, "spurious interrupt vector register"),
            Map.entry(0x100L, "in-service register (ISR)"), Map.entry(0x180L, "trigger mode register (TMR)"),
            Map.entry(0x200L, "interrupt request register (IRR)"), Map.entry(0x280L, "error status register"),
            Map.entry(0x2f0L, "LVT CMCI register"), Map.entry(0x300L, "interrupt command register (ICR) low"),
            Map.entry(0x310L, "interrupt command register (ICR) high"), Map.entry(0x320L, "LVT timer register"),
            Map.entry(0x330L, "LVT thermal sensor register"), Map.entry(0x340L, "LVT performance counter register"),
            Map.entry(0x350L, "LVT LINT0 register"), Map.entry(0x360L, "LVT LINT1 register"),
            Map.entry(0x370L, "LVT error register"), Map.entry(0x380L, "timer initial count register"),
            Map.entry(0x390L, "timer current count register"), Map.entry(0x3e0L, "timer divide configuration register"));
    // The ISR, TMR and IRR are eight registers each: name every one of them.
    private static final Map<Long, String> LOCAL_APIC_ALL = withBanks(LOCAL_APIC);

    private static final List<Window> WINDOWS = List.of(
            new Window(0xa0000, 0xbffff, "VGA frame buffer (legacy video memory)", Map.of()),
            new Window(0xc0000, 0xdffff, "video BIOS and option ROMs", Map.of()),
            new Window(0xe0000, 0xfffff, "BIOS ROM, the system BIOS below 1 MiB", Map.of()),
            new Window(0xb000_0000L, 0xbfff_ffffL, "PCI Express MMCONFIG (ECAM) window of QEMU's q35", Map.of()),
            new Window(0xfec0_0000L, 0xfec0_0fffL, "I/O APIC", Map.of(0x00L, "register select (IOREGSEL)",
                    0x10L, "register window (IOWIN)", 0x40L, "EOI register")),
            new Window(0xfed0_0000L, 0xfed0_03ffL, "HPET", Map.of(0x000L, "capabilities and ID register",
                    0x010L, "configuration register", 0x020L, "interrupt status register",
                    0x0f0L, "main counter", 0x100L, "timer 0 configuration", 0x108L, "timer 0 comparator")),
            new Window(0xfee0_0000L, 0xfee0_0fffL, "local APIC", LOCAL_APIC_ALL),
            new Window(0xfffc_0000L, 0xffff_ffffL, "BIOS ROM, the flash just below 4 GiB where the CPU starts", Map.of()));

    private final long ramBytes;

    /** The map of a PC with {@code ramBytes} of RAM from physical 0. */
    public PcPhysicalMap(long ramBytes) {
        this.ramBytes = ramBytes;
    }

    /** What lives at physical {@code address} on a PC, e.g. "local APIC ID register". */
    public String describe(long address) {
        for (Window window : WINDOWS) {
            if (window.contains(address)) {
                return window.describe(address);
            }
        }
        if (Long.compareUnsigned(address, ramBytes) < 0) {
            return "guest RAM";
        }
        return "above the end of guest RAM (" + mebibytes(ramBytes) + ")";
    }

    private static String mebibytes(long bytes) {
        return bytes % (1 << 20) == 0 ? (bytes >> 20) + " MiB" : String.format("0x%x bytes", bytes);
    }

    private static Map<Long, String> withBanks(Map<Long, String> registers) {
        Map<Long, String> all = new TreeMap<>(registers);
        for (var bank : List.of(Map.entry(0x100L, "in-service register (ISR)"),
                Map.entry(0x180L, "trigger mode register (TMR)"), Map.entry(0x200L, "interrupt request register (IRR)"))) {
            for (int i = 0; i < 8; i++) {
                all.put(bank.getKey() + 0x10L * i, bank.getValue() + " bits " + 32 * i + "-" + (32 * i + 31));
            }
        }
        return Map.copyOf(all);
    }
}
