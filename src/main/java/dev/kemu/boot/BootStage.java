package dev.kemu.boot;

import dev.kemu.kernel.GuestAbi;
import dev.kemu.machine.CpuState;

import java.util.ArrayList;
import java.util.List;

/**
 * The stages of the boot, each marked by a symbol of the firmware or kernel image, with the
 * CPU state the architecture demands there. Java only observes these points (a code hook
 * on each address); guest code performs every switch.
 */
public enum BootStage {
    FIRMWARE_HANDOFF("firmware handoff", "fw_handoff", true),
    ENTRY_32("32-bit entry", "_start", false),
    PAGING_ON("paging on", "boot_paging_on", false),
    LONG_MODE("long mode active", "long_mode_entry", false),
    HIGHER_HALF("higher half reached", "higher_half_entry", false),
    KERNEL_TABLES("identity map dropped", "kernel_tables_on", false),
    KMAIN("kmain", "kmain", false);

    private final String title;
    private final String symbol;
    private final boolean inFirmware;

    BootStage(String title, String symbol, boolean inFirmware) {
        this.title = title;
        this.symbol = symbol;
        this.inFirmware = inFirmware;
    }

    public String title() {
        return title;
    }

    public String symbol() {
        return symbol;
    }

    public boolean inFirmware() {
        return inFirmware;
    }

    /**
     * What is wrong with {@code cpu} at this stage (empty when it is as expected).
     * {@code longModeCode} tells whether CS selects a 64-bit (L=1) code descriptor.
     */
    public List<String> violations(CpuState cpu, boolean longModeCode) {
        List<String> wrong = new ArrayList<>();
        switch (this) {
            case FIRMWARE_HANDOFF, ENTRY_32 -> {
                expect(wrong, cpu.protectedMode(), "CR0.PE set");
                expect(wrong, !cpu.pagingEnabled(), "CR0.PG clear");
                expect(wrong, !cpu.longModeActive(), "EFER.LMA clear");
                expect(wrong, !longModeCode, "32-bit code segment");
                expect(wrong, (int) cpu.rax() == GuestAbi.MULTIBOOT_BOOTLOADER_MAGIC, "EAX = 0x2BADB002");
            }
            case PAGING_ON -> {
                expect(wrong, cpu.pagingEnabled(), "CR0.PG set");
                expect(wrong, (cpu.cr4() & CpuState.CR4_PAE) != 0, "CR4.PAE set");
                expect(wrong, cpu.longModeActive(), "EFER.LMA set (IA-32e, compatibility mode)");
                expect(wrong, !longModeCode, "still a 32-bit code segment");
            }
            case LONG_MODE -> {
                expect(wrong, cpu.longModeActive(), "EFER.LMA set");
                expect(wrong, longModeCode, "CS descriptor with L=1 (64-bit mode)");
            }
            case HIGHER_HALF, KERNEL_TABLES, KMAIN -> {
                expect(wrong, cpu.longModeActive() && longModeCode, "64-bit mode");
                expect(wrong, Long.compareUnsigned(cpu.rip(), GuestAbi.KERNEL_VMA) >= 0,
                        "RIP at or above 0xffffffff80000000");
            }
        }
        return wrong;
    }

    private static void expect(List<String> wrong, boolean holds, String what) {
        if (!holds) {
            wrong.add("expected " + what);
        }
    }
}
