package dev.kemu.machine;

import dev.kemu.unicorn.Unicorn;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * Stops one machine's engine when a host-time deadline passes while it runs: the run's wall-clock limit, and
 * with the host clock the next device deadline. One daemon thread serves every machine of the JVM.
 *
 * <p>Not Unicorn's own timeout, which starts a timer thread for every timed {@code uc_emu_start} and joins it
 * when the run ends; that thread polls with {@code usleep(2)} (uc.c, {@code _timeout_fn}), so each run that ends
 * early still waits for its next wake-up, a timer-slack period (about 50 us on Linux): a thousand quanta a second
 * would lose 5% to it. Its clock choice is also reset by every engine's initialisation, which made it time out
 * at once under load.
 *
 * <p>Nor a {@code ScheduledExecutorService}: scheduling wakes its thread whenever the new task heads the queue, a
 * futex call per quantum that cost 27 us in this project's VM. Arming here wakes the thread only if it would
 * otherwise sleep past the new deadline; after a ring it wakes soon anyway (to ring again), finds the next
 * deadline and sleeps until then, so a host-clock timer's quanta make no system call on the guest's thread.
 */
final class HostAlarm {
    /**
     * A stop that reaches the engine before its {@code uc_emu_start} cleared the stop request (armed just before the
     * start, or between two starts of one quantum) is lost, so a rung alarm rings again this much later until it
     * is disarmed.
     */
    private static final long RING_AGAIN_NANOS = 20_000;
    private static final long NONE = Long.MAX_VALUE;
    private static final Object LOCK = new Object();
    /** Guarded by LOCK: the alarms armed now. A handful at most: one per machine running at this moment. */
    private static final List<HostAlarm> ARMED = new ArrayList<>();
    /** Guarded by LOCK: when the ringing thread wakes next if nobody wakes it earlier ({@link #NONE}: never). */
    private static long plannedWake = NONE;
    private static Thread ringer;

    private final Unicorn engine;
    /** Guarded by LOCK: set before the engine is freed; no ring may reach it after that. */
    private boolean closed;
    /** Guarded by LOCK: when this alarm rings next, or NONE while disarmed. */
    private long dueAt = NONE;
    /** Guarded by LOCK: when this arming first rang (System.nanoTime), or NONE. */
    private long rangAt = NONE;

    HostAlarm(Unicorn engine) {
        this.engine = engine;
    }

    /** Rings at {@code deadline}, a {@link System#nanoTime()} value; {@code Long.MAX_VALUE} arms nothing. */
    void arm(long deadline) {
        synchronized (LOCK) {
            if (closed) {
                throw new IllegalStateException("the alarm of a closed machine was armed");
            }
            rangAt = NONE;
            if (deadline == NONE) {
                disarm(NONE);
                return;
            }
            if (ringer == null || !ringer.isAlive()) {
                Thread thread = new Thread(HostAlarm::ringDueAlarms, "kemu-host-alarm");
                thread.setDaemon(true);
                thread.start(); // first: if no thread can be made, nothing is left armed without one
                ringer = thread;
                plannedWake = NONE;
            }
            if (dueAt == NONE) {
                ARMED.add(this);
            }
            dueAt = deadline;
            if (deadline < plannedWake) {
                plannedWake = deadline; // a second arming before it wakes needs no second wake-up
                LockSupport.unpark(ringer);
            }
        }
    }

    /** Whether this arming has rung yet (it may still be armed). */
    boolean hasRung() {
        synchronized (LOCK) {
            return rangAt != NONE;
        }
    }

    /**
     * After the engine returned at {@code returnedAt}: no ring of this arming reaches it any more. Returns whether
     * the alarm rang before the engine returned, and so may be why it did (a ring after that stopped nothing).
     * The ringing thread is not woken: if it was to wake for this alarm, it finds nothing due and sleeps on.
     */
    boolean disarm(long returnedAt) {
        synchronized (LOCK) {
            if (dueAt != NONE) {
                ARMED.remove(this);
                dueAt = NONE;
            }
            return rangAt <= returnedAt;
        }
    }

    /** Before the engine is freed: disarmed for good, so the ringing thread never touches the freed engine. */
    void close() {
        synchronized (LOCK) {
            disarm(NONE);
            closed = true;
        }
    }

    /** The ringing thread: stops every engine whose alarm is due, then sleeps until the next one is. */
    private static void ringDueAlarms() {
        while (true) {
            long wake = NONE;
            synchronized (LOCK) {
                long now = System.nanoTime();
                for (int i = ARMED.size() - 1; i >= 0; i--) {
                    HostAlarm alarm = ARMED.get(i);
                    if (alarm.dueAt <= now) {
                        alarm.ring(now);
                    }
                    wake = Math.min(wake, alarm.dueAt);
                }
                plannedWake = wake;
            }
            if (wake == NONE) {
                LockSupport.park();
            } else {
                LockSupport.parkNanos(wake - System.nanoTime());
            }
        }
    }

    /** Under LOCK: stops the engine (uc_emu_stop only sets flags) and rings again a little later. */
    private void ring(long now) {
        rangAt = Math.min(rangAt, now);
        engine.stop();
        dueAt = now + RING_AGAIN_NANOS;
    }
}
