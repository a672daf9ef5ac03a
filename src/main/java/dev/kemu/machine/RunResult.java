package dev.kemu.machine;

import java.time.Duration;

/**
 * The outcome of {@link Machine#run}: why it stopped, the CPU at that point, how many
 * instructions ran (-1 when counting was off), the exit code written to the exit port,
 * the exception vector for {@link StopReason#UNHANDLED_EXCEPTION}, and a sentence.
 */
public record RunResult(StopReason reason, CpuState cpu, long instructions, int exitCode, int vector,
                        Duration wallTime, String detail) {
}
