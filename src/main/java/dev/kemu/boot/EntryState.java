package dev.kemu.boot;

import dev.kemu.kernel.GuestAbi;
import dev.kemu.machine.CodeSegment;
import dev.kemu.machine.CpuState;

import java.util.ArrayList;
import java.util.List;

/**
 * The CPU state a boot protocol promises the kernel at its entry, checked at the firmware handoff and at the
 * kernel's first block: Multiboot 1 (0.6.96, section 3.2) and Multiboot 2 (2.0, section 3.3) enter in 32-bit
 * protected mode with paging off and their magic in EAX; Limine (PROTOCOL.md, "Machine state at entry", x86-64)
 * enters in long mode with paging, PAE and WP on, IF and DF clear, and every general-purpose register but RSP zero.
 */
public enum EntryState {
    MULTIBOOT1(BootStage.ENTRY_32, GuestAbi.MULTIBOOT_BOOTLOADER_MAGIC),
    MULTIBOOT2(BootStage.ENTRY_32, 0x36d76289),
    LIMINE(BootStage.ENTRY_64, 0);

    private static final long FLAT_LIMIT = 0xffff_ffffL;
    private static final long RFLAGS_IF = 1 << 9, RFLAGS_DF = 1 << 10, RFLAGS_VM = 1 << 17;
    private static final int RSP = 4;

    private final BootStage entryStage;
    private final int magic;

    EntryState(BootStage entryStage, int magic) {
        this.entryStage = entryStage;
        this.magic = magic;
    }

    /** The stage of the kernel's first block: {@link BootStage#ENTRY_32} or {@link BootStage#ENTRY_64}. */
    public BootStage entryStage() {
        return entryStage;
    }

    /** What the protocol promises and {@code cpu} running {@code code} does not have ("expected ..."). */
    public List<String> violations(CpuState cpu, CodeSegment code) {
        List<String> wrong = new ArrayList<>();
        if (this == LIMINE) {
            expect(wrong, cpu.pagingEnabled() && cpu.protectedMode(), "CR0.PG and CR0.PE set");
            expect(wrong, (cpu.cr0() & CpuState.CR0_WP) != 0, "CR0.WP set");
            expect(wrong, (cpu.cr4() & CpuState.CR4_PAE) != 0, "CR4.PAE set");
            expect(wrong, cpu.longModeActive() && code.longMode(), "64-bit mode (EFER.LMA and a CS with L=1)");
            expect(wrong, (cpu.rflags() & (RFLAGS_IF | RFLAGS_DF | RFLAGS_VM)) == 0, "IF, DF and VM clear");
            boolean zero = true;
            for (int i = 0; i < cpu.gprs().length; i++) {
                zero &= i == RSP || cpu.gprs()[i] == 0;
            }
            expect(wrong, zero, "every general-purpose register but RSP zero");
            return wrong;
        }
        expect(wrong, cpu.protectedMode(), "CR0.PE set");
        expect(wrong, !cpu.pagingEnabled(), "CR0.PG clear");
        expect(wrong, !cpu.longModeActive(), "EFER.LMA clear");
        expect(wrong, code.defaultSize32() && code.base() == 0 && (code.limit() & FLAT_LIMIT) == FLAT_LIMIT,
                "a flat 32-bit code segment");
        expect(wrong, (int) cpu.rax() == magic, String.format("EAX = 0x%08X", magic));
        return wrong;
    }

    private static void expect(List<String> wrong, boolean holds, String what) {
        if (!holds) {
            wrong.add("expected " + what);
        }
    }
}
