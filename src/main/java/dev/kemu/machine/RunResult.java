package dev.kemu.machine;

import java.time.Duration;
import java.util.Optional;

/**
 * The outcome of {@link Machine#run}: why it stopped, the CPU at that point, how many
 * instructions ran (-1 when counting was off: see {@link #counted()}), the value written to the
 * exit port (as written, not QEMU's {@code value << 1 | 1}), the exception vector for
 * {@link StopReason#UNHANDLED_EXCEPTION}, a sentence, and the engine's own error when Unicorn
 * ended the run with one (for {@link StopReason#EMULATION_ERROR}), so its native error name and
 * the call stay available to the caller. A hook's exception is not a result: {@link Machine#run}
 * rethrows it.
 */
public record RunResult(StopReason reason, CpuState cpu, long instructions, int exitCode, int vector,
                        Duration wallTime, String detail, Optional<Throwable> cause) {
    public RunResult(StopReason reason, CpuState cpu, long instructions, int exitCode, int vector, Duration wallTime,
                     String detail) {
        this(reason, cpu, instructions, exitCode, vector, wallTime, detail, Optional.empty());
    }

    /**
     * The access that stopped the run because nothing was behind its address (the cause of an
     * {@link StopReason#EMULATION_ERROR} that was one of Unicorn's unmapped-memory errors).
     */
    public Optional<UnmappedAccess> unmappedAccess() {
        return cause.filter(UnmappedAccessException.class::isInstance)
                .map(c -> ((UnmappedAccessException) c).access());
    }

    /** False when the run had no instruction budget, so {@link #instructions()} is not a count. */
    public boolean counted() {
        return instructions >= 0;
    }
}
