package dev.kemu.machine.interrupts;

/**
 * RDTSC and RDTSCP read the {@link VirtualClock}: a 1 GHz time-stamp counter (one tick per virtual
 * nanosecond, so one per retired instruction), instead of Unicorn's host-time counter, which would make
 * every run differ. The machine hooks both instructions (Unicorn 2.1.3+ lets a hook replace them).
 */
public final class TimeStampCounter {
    private final VirtualClock clock;
    private final Runnable firstRead;
    private boolean read;

    /** {@code firstRead} runs at the first read: a guest that reads the TSC needs virtual time to advance. */
    public TimeStampCounter(VirtualClock clock, Runnable firstRead) {
        this.clock = clock;
        this.firstRead = firstRead;
    }

    /** The counter now. */
    public long read() {
        if (!read) {
            read = true;
            firstRead.run();
        }
        return clock.now();
    }
}
