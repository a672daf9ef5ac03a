package dev.kemu.machine.interrupts;

import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * The machine's device time in nanoseconds. By default ({@link ClockMode#INSTRUCTIONS}) deterministic virtual
 * time: one retired guest instruction is one nanosecond ({@link #NANOS_PER_INSTRUCTION}), so a 1 GHz virtual CPU.
 * Time then comes from instruction counts only, never from the host clock, so the same guest reaches the same
 * timer interrupts after the same instructions on every run and every host. Time also jumps forward when a
 * {@code hlt} with interrupts enabled sleeps until the next device deadline. While the run loop counts a
 * quantum, {@link #now()} adds the instructions of the quantum so far.
 *
 * <p>With {@link ClockMode#HOST} the time is the host's monotonic clock since the machine was made, and a
 * sleeping {@code hlt} waits for it.
 */
public final class VirtualClock {
    public static final long NANOS_PER_INSTRUCTION = 1;

    private final ClockMode mode;
    private final long origin = System.nanoTime();
    private long retired;
    private long slept;
    private LongSupplier inFlight = () -> 0;

    public VirtualClock() {
        this(ClockMode.INSTRUCTIONS);
    }

    public VirtualClock(ClockMode mode) {
        this.mode = mode;
    }

    public ClockMode mode() {
        return mode;
    }

    /** Whether time is the host's ({@link ClockMode#HOST}): the run loop then needs no instruction count. */
    public boolean hostTime() {
        return mode == ClockMode.HOST;
    }

    /** Nanoseconds since the machine was created. */
    public long now() {
        if (mode == ClockMode.HOST) {
            return System.nanoTime() - origin;
        }
        return (retired + inFlight.getAsLong()) * NANOS_PER_INSTRUCTION + slept;
    }

    /** The host's {@link System#nanoTime()} when this clock reads {@code time} ({@link ClockMode#HOST} only). */
    public long hostNanoTime(long time) {
        // Saturating: a deadline centuries away must not wrap round into the past (a ring every quantum).
        return time >= Long.MAX_VALUE - Math.max(origin, 0) ? Long.MAX_VALUE : origin + time;
    }

    /** {@code instructions} more retired (the quantum that just ended). */
    public void retire(long instructions) {
        retired += instructions;
    }

    /** The count of the quantum under way, read by {@link #now()} while it runs. */
    public void countingWith(LongSupplier quantumSoFar) {
        this.inFlight = quantumSoFar;
    }

    /**
     * A {@code hlt} sleeps until {@code deadline}: virtual time jumps there without instructions; host time is
     * waited for, but not past the host's {@code System.nanoTime()} value {@code hostLimit} (a run's wall-clock
     * limit). Returns whether the clock reached the deadline.
     */
    public boolean sleepUntil(long deadline, long hostLimit) {
        if (mode == ClockMode.HOST) {
            long wake = Math.min(hostNanoTime(deadline), hostLimit);
            for (long left = wake - System.nanoTime(); left > 0 && !Thread.currentThread().isInterrupted();
                    left = wake - System.nanoTime()) {
                LockSupport.parkNanos(this, left); // returns at once for an interrupted thread: the loop ends then
            }
            return now() >= deadline;
        }
        long now = now();
        if (deadline > now) {
            slept += deadline - now;
        }
        return true;
    }

    /**
     * Instructions from now until virtual time {@code deadline} (at least 1; Long.MAX_VALUE if none, and always
     * with host time, where a host timer ends the quantum instead).
     */
    public long instructionsUntil(long deadline) {
        if (deadline == Long.MAX_VALUE || mode == ClockMode.HOST) {
            return Long.MAX_VALUE;
        }
        long nanos = deadline - now();
        return Math.max(1, (nanos + NANOS_PER_INSTRUCTION - 1) / NANOS_PER_INSTRUCTION);
    }
}
