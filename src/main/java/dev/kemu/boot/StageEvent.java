package dev.kemu.boot;

import dev.kemu.machine.CodeSegment;
import dev.kemu.machine.CpuState;

import java.util.List;

/**
 * A boot stage as observed: the CPU there, the code segment it ran with (its descriptor cache),
 * the instruction count (-1 when the run had no budget and so counted nothing), and any state the
 * boot protocol's promised entry state ({@link EntryState}) or the architecture rules out. {@code cpuName}
 * ("cpu0") when the machine has several CPUs, which the line then starts with; null with one.
 */
public record StageEvent(BootStage stage, CpuState cpu, CodeSegment codeSegment, long instructions,
                         List<String> violations, String cpuName) {

    /** A stage of a machine with one CPU, whose line names none (as before --cpus existed). */
    public StageEvent(BootStage stage, CpuState cpu, CodeSegment codeSegment, long instructions, List<String> violations) {
        this(stage, cpu, codeSegment, instructions, violations, null);
    }

    /** Whether the CPU ran 64-bit code here: EFER.LMA and a CS descriptor with L=1. */
    public boolean longModeCode() {
        return cpu.longModeActive() && codeSegment.longMode();
    }

    public String line() {
        String base = (cpuName == null ? "" : cpuName + " ") + String.format("%-20s %s insns=%s", stage.title(), cpu.summary(),
                instructions >= 0 ? Long.toString(instructions) : "uncounted");
        return violations.isEmpty() ? base : base + "  !! " + String.join("; ", violations);
    }
}
