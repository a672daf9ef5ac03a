package dev.kemu.machine;

import java.time.Duration;

/**
 * Limits for one run. A positive instruction budget installs a counting hook on every
 * instruction (the only per-instruction hook kemu uses); 0 runs uncounted at full speed.
 */
public record RunLimits(long instructionBudget, Duration timeout) {
    public static final RunLimits UNCOUNTED = new RunLimits(0, Duration.ZERO);

    public static RunLimits budget(long instructions) {
        return new RunLimits(instructions, Duration.ZERO);
    }

    public RunLimits {
        if (instructionBudget < 0) {
            throw new IllegalArgumentException("instruction budget must be >= 0, got " + instructionBudget);
        }
    }
}
