package dev.kemu.boot;

import dev.kemu.debug.FaultPolicy;

import java.time.Duration;

/**
 * How to boot: guest RAM size, kernel command line, the limits that stop a runaway guest,
 * what happens to faults demand paging does not resolve, and how many recent basic blocks
 * fault reports show (0 = no block trace, the default).
 */
public record BootOptions(long ramBytes, String commandLine, long instructionBudget, Duration timeout,
                          FaultPolicy onFault, int traceBlocks) {
    public static final long DEFAULT_RAM = 64L << 20;
    public static final long DEFAULT_BUDGET = 10_000_000;

    public static BootOptions defaults() {
        return new BootOptions(DEFAULT_RAM, "kemu", DEFAULT_BUDGET, Duration.ofSeconds(30), FaultPolicy.REPORT, 0);
    }

    public BootOptions withRam(long bytes) {
        return new BootOptions(bytes, commandLine, instructionBudget, timeout, onFault, traceBlocks);
    }

    public BootOptions withBudget(long instructions) {
        return new BootOptions(ramBytes, commandLine, instructions, timeout, onFault, traceBlocks);
    }

    public BootOptions withCommandLine(String text) {
        return new BootOptions(ramBytes, text, instructionBudget, timeout, onFault, traceBlocks);
    }

    public BootOptions withFaultPolicy(FaultPolicy policy) {
        return new BootOptions(ramBytes, commandLine, instructionBudget, timeout, policy, traceBlocks);
    }

    public BootOptions withBlockTrace(int blocks) {
        return new BootOptions(ramBytes, commandLine, instructionBudget, timeout, onFault, blocks);
    }
}
