package dev.kemu.machine.interrupts;

import java.util.function.LongSupplier;

/**
 * Deterministic virtual time: one retired guest instruction is one nanosecond ({@link #NANOS_PER_INSTRUCTION}),
 * so a 1 GHz virtual CPU. Time comes from instruction counts only, never from the host clock, so the same
 * guest reaches the same timer interrupts after the same instructions on every run and every host. Time
 * also jumps forward when a {@code hlt} with interrupts enabled sleeps until the next device deadline.
 * While the run loop counts a quantum, {@link #now()} adds the instructions of the quantum so far.
 */
public final class VirtualClock {
    public static final long NANOS_PER_INSTRUCTION = 1;

    private long retired;
    private long slept;
    private LongSupplier inFlight = () -> 0;

    /** Virtual nanoseconds since the machine was created. */
    public long now() {
        return (retired + inFlight.getAsLong()) * NANOS_PER_INSTRUCTION + slept;
    }

    /** {@code instructions} more retired (the quantum that just ended). */
    public void retire(long instructions) {
        retired += instructions;
    }

    /** The count of the quantum under way, read by {@link #now()} while it runs. */
    public void countingWith(LongSupplier quantumSoFar) {
        this.inFlight = quantumSoFar;
    }

    /** A {@code hlt} slept until {@code deadline}: time jumps there without instructions. */
    public void sleepUntil(long deadline) {
        long now = now();
        if (deadline > now) {
            slept += deadline - now;
        }
    }

    /** Instructions from now until virtual time {@code deadline} (at least 1; Long.MAX_VALUE if none). */
    public long instructionsUntil(long deadline) {
        if (deadline == Long.MAX_VALUE) {
            return Long.MAX_VALUE;
        }
        long nanos = deadline - now();
        return Math.max(1, (nanos + NANOS_PER_INSTRUCTION - 1) / NANOS_PER_INSTRUCTION);
    }
}
