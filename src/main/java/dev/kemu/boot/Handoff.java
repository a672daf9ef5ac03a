package dev.kemu.boot;

import java.util.List;

/**
 * How kemu's firmware hands a loaded kernel over: the firmware instruction the run starts at and the one that jumps
 * to the kernel (firmware symbols), the kernel's entry as the CPU sees it (physical for the 32-bit protocols, virtual
 * for Limine), the CPU state the protocol promises there, and one line per thing the loader accepted without
 * honouring it.
 */
public record Handoff(String firmwareEntry, String handoffInstruction, long kernelEntry, EntryState state,
                      List<String> notes) {
    public Handoff {
        notes = List.copyOf(notes);
    }

    /** The 32-bit protected-mode handoff of both Multiboot protocols (firmware.S, fw_entry). */
    public static Handoff protectedMode(long entry, EntryState state, List<String> notes) {
        return new Handoff("fw_entry", "fw_handoff", entry, state, notes);
    }

    /** The long-mode handoff of the Limine protocol (firmware.S, fw_limine_entry). */
    public static Handoff longMode(long entry, List<String> notes) {
        return new Handoff("fw_limine_entry", "fw_limine_handoff", entry, EntryState.LIMINE, notes);
    }
}
