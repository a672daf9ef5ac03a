package dev.kemu.boot;

import dev.kemu.machine.CpuState;

import java.util.List;

/** A boot stage as observed: the CPU there, the instruction count, and any broken expectation. */
public record StageEvent(BootStage stage, CpuState cpu, boolean longModeCode, long instructions,
                         List<String> violations) {

    public String line() {
        String base = String.format("%-20s %s insns=%d", stage.title(), cpu.summary(), instructions);
        return violations.isEmpty() ? base : base + "  !! " + String.join("; ", violations);
    }
}
