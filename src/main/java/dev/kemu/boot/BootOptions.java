package dev.kemu.boot;

import java.time.Duration;

/** How to boot: guest RAM size, kernel command line, and the limits that stop a runaway guest. */
public record BootOptions(long ramBytes, String commandLine, long instructionBudget, Duration timeout) {
    public static final long DEFAULT_RAM = 64L << 20;
    public static final long DEFAULT_BUDGET = 10_000_000;

    public static BootOptions defaults() {
        return new BootOptions(DEFAULT_RAM, "kemu", DEFAULT_BUDGET, Duration.ofSeconds(30));
    }

    public BootOptions withRam(long bytes) {
        return new BootOptions(bytes, commandLine, instructionBudget, timeout);
    }

    public BootOptions withBudget(long instructions) {
        return new BootOptions(ramBytes, commandLine, instructions, timeout);
    }

    public BootOptions withCommandLine(String text) {
        return new BootOptions(ramBytes, text, instructionBudget, timeout);
    }
}
