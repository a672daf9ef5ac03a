package dev.kemu.boot;

import dev.kemu.machine.CodeSegment;
import dev.kemu.machine.CpuState;

import java.util.ArrayList;
import java.util.List;

/**
 * The stages of a boot, in the order a 64-bit higher-half kernel passes them. Each is seen in the
 * state the CPU is in ({@link BootObserver}), never by a symbol of the kernel; a kernel that stays
 * in 32-bit mode or below the higher half just reaches fewer of them. Java only observes; guest
 * code performs every switch.
 */
public enum BootStage {
    /** kemu's firmware jumps to the kernel entry (the last firmware instruction). */
    FIRMWARE_HANDOFF("firmware handoff"),
    /** The first block of the kernel: its entry point, in 32-bit protected mode as Multiboot requires. */
    ENTRY_32("32-bit entry"),
    /** The first block of a kernel entered in long mode (the Limine protocol): paging is on already. */
    ENTRY_64("64-bit entry"),
    /** The first block that runs with CR0.PG set. */
    PAGING_ON("paging on"),
    /** The first block that runs in 64-bit mode: EFER.LMA set and a CS descriptor with L=1. */
    LONG_MODE("long mode active"),
    /** The first block whose RIP is in the higher half ({@link StageLandmarks#higherHalf()}). */
    HIGHER_HALF("higher half reached"),
    /** In the higher half, the first block after a CR3 switch to tables that no longer map the entry's identity page. */
    KERNEL_TABLES("identity map dropped"),
    /** The first instruction at the kernel's {@code kmain}, {@code kernel_main} or {@code main}, when it has one. */
    KMAIN("kmain");

    private final String title;

    BootStage(String title) {
        this.title = title;
    }

    public String title() {
        return title;
    }

    /**
     * What is wrong with {@code cpu} running {@code code} at this stage (empty when nothing is):
     * at the handoff and the entry, what the boot protocol demands of the loader ({@code promised});
     * at every stage, states the architecture rules out. No expectation about any kernel's layout.
     */
    public List<String> violations(CpuState cpu, CodeSegment code, EntryState promised) {
        List<String> wrong = new ArrayList<>();
        if (this == FIRMWARE_HANDOFF || this == promised.entryStage()) {
            wrong.addAll(promised.violations(cpu, code));
        }
        if (cpu.longModeActive()) {
            impossible(wrong, !cpu.pagingEnabled(), "EFER.LMA set with CR0.PG clear");
            impossible(wrong, (cpu.cr4() & CpuState.CR4_PAE) == 0, "long mode active without CR4.PAE");
            impossible(wrong, code.longMode() && code.defaultSize32(), "a CS descriptor with both L and D set");
        }
        return wrong;
    }

    private static void impossible(List<String> wrong, boolean holds, String what) {
        if (holds) {
            wrong.add(what + " (impossible on x86: an emulator defect)");
        }
    }
}
