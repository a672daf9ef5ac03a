package dev.kemu.machine;

import java.time.Duration;

/**
 * The outcome of {@link Machine#run}: why it stopped, the CPU at that point, how many
 * instructions ran (-1 when counting was off: see {@link #counted()}), the value written to the exit
 * port (as written, not QEMU's {@code value << 1 | 1}), the exception vector for
 * {@link StopReason#UNHANDLED_EXCEPTION}, and a sentence.
 */
public record RunResult(StopReason reason, CpuState cpu, long instructions, int exitCode, int vector,
                        Duration wallTime, String detail) {
    /** False when the run had no instruction budget, so {@link #instructions()} is not a count. */
    public boolean counted() {
        return instructions >= 0;
    }
}
