package dev.kemu.boot;

import dev.kemu.elf.ElfImage;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

/**
 * The configuration words of kemu's firmware stub (kernel-asm/firmware.S), filled by the loader before the run, like
 * a loader's configuration table: the stub reads them and sets every register itself.
 */
public final class FirmwareWords {
    private FirmwareWords() {}

    /** The 32-bit handoff of both Multiboot protocols: EAX = {@code magic}, EBX = {@code info}, jump to {@code entry}. */
    public static void protectedModeHandoff(GuestRam ram, ElfImage firmware, long entry, long info, int magic) {
        ram.write32(address(firmware, "fw_kernel_entry"), (int) entry);
        ram.write32(address(firmware, "fw_boot_info"), (int) info);
        ram.write32(address(firmware, "fw_boot_magic"), magic);
    }

    /**
     * The Limine handoff: CR3 = {@code pml4}, GDTR = {@code gdtBase}/{@code gdtLimit}, RSP = {@code stackTop}, then a
     * jump to {@code entry}.
     */
    public static void longModeHandoff(GuestRam ram, ElfImage firmware, PhysAddr pml4, VirtAddr gdtBase, int gdtLimit,
                                       VirtAddr stackTop, VirtAddr entry) {
        ram.write64(address(firmware, "fw_limine_cr3"), pml4.value());
        long gdtr = address(firmware, "fw_limine_gdtr");
        ram.write16(gdtr, gdtLimit);
        ram.write64(gdtr + 2, gdtBase.value());
        ram.write64(address(firmware, "fw_limine_rsp"), stackTop.value());
        ram.write64(address(firmware, "fw_limine_kernel_entry"), entry.value());
    }

    /**
     * The Limine SMP start: before the jump the bootstrap CPU starts the {@code count} APs of the slot table at
     * {@code table} (lapic_id, info, stack top per AP) and waits until each has parked on its goto_address.
     */
    public static void limineApStart(GuestRam ram, ElfImage firmware, PhysAddr table, int count) {
        ram.write64(address(firmware, "fw_limine_ap_table"), table.value());
        ram.write64(address(firmware, "fw_limine_ap_count"), count);
    }

    private static long address(ElfImage firmware, String word) {
        return firmware.symbols().find(word).orElseThrow(() -> new IllegalStateException(firmware.path()
                + ": kemu's firmware has no configuration word '" + word + "'; rebuild it from kernel-asm/firmware.S"))
                .address();
    }
}
