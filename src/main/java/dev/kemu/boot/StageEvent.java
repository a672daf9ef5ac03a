package dev.kemu.boot;

import dev.kemu.machine.CpuState;

import java.util.List;

/**
 * A boot stage as observed: the CPU there, the instruction count (-1 when the run had no budget and so
 * counted nothing), and any broken expectation.
 */
public record StageEvent(BootStage stage, CpuState cpu, boolean longModeCode, long instructions,
                         List<String> violations) {

    public String line() {
        String base = String.format("%-20s %s insns=%s", stage.title(), cpu.summary(),
                instructions >= 0 ? Long.toString(instructions) : "uncounted");
        return violations.isEmpty() ? base : base + "  !! " + String.join("; ", violations);
    }
}
