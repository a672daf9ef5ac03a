package dev.kemu.machine.smp;

import dev.kemu.machine.RunResult;

import java.util.List;

/**
 * The outcome of {@link CpuSet#run}: the CPU whose stop ended the run ({@code cpu}, named {@code cpuN}),
 * that CPU's {@link RunResult} (its {@code instructions} are the ones of its last quantum), the instructions
 * each CPU executed over the whole run, and a sentence naming the CPU.
 */
public record SmpRunResult(int cpu, RunResult last, List<Long> instructionsPerCpu, String detail) {
    public SmpRunResult {
        instructionsPerCpu = List.copyOf(instructionsPerCpu);
    }

    public long totalInstructions() {
        return instructionsPerCpu.stream().mapToLong(Long::longValue).sum();
    }
}
