package dev.kemu.machine;

import dev.kemu.unicorn.Unicorn;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Stops one machine's engine when a host-time deadline passes while it runs: the run's wall-clock limit, and
 * with the host clock the next device deadline. One daemon thread serves every machine of the JVM.
 *
 * <p>Not Unicorn's own timeout, which starts a timer thread for every timed {@code uc_emu_start} and joins it
 * when the run ends; that thread polls with {@code usleep(2)} (uc.c, {@code _timeout_fn}), so each run that ends
 * early still waits for its next wake-up, a timer-slack period (about 50 us on Linux): a thousand quanta a second
 * would lose 5% to it. Its clock choice is also reset by every engine's initialisation, which made it time out
 * at once under load.
 */
final class HostAlarm {
    /**
     * A stop that reaches the engine before its {@code uc_emu_start} cleared the stop request (armed just before the
     * start, or between two starts of one quantum) is lost, so a rung alarm rings again this much later until it
     * is disarmed.
     */
    private static final long RING_AGAIN_NANOS = 20_000;
    private static final ScheduledThreadPoolExecutor TIMER = timer();

    private final Unicorn engine;
    /** Guarded by this: which arming a scheduled ring belongs to (a ring of an earlier one is ignored). */
    private long arming;
    /** When the first ring of this arming stopped the engine (System.nanoTime), or Long.MAX_VALUE. */
    private long rangAt = Long.MAX_VALUE;
    private ScheduledFuture<?> scheduled;

    HostAlarm(Unicorn engine) {
        this.engine = engine;
    }

    private static ScheduledThreadPoolExecutor timer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "kemu-host-alarm");
            thread.setDaemon(true);
            return thread;
        });
        timer.setRemoveOnCancelPolicy(true); // disarmed alarms leave the queue at once
        return timer;
    }

    /** Rings at {@code deadline}, a {@link System#nanoTime()} value; {@code Long.MAX_VALUE} arms nothing. */
    synchronized void arm(long deadline) {
        arming++;
        rangAt = Long.MAX_VALUE;
        if (deadline != Long.MAX_VALUE) {
            scheduleRing(arming, Math.max(0, deadline - System.nanoTime()));
        }
    }

    private void scheduleRing(long forArming, long delayNanos) {
        scheduled = TIMER.schedule(() -> ring(forArming), delayNanos, TimeUnit.NANOSECONDS);
    }

    private synchronized void ring(long forArming) {
        if (forArming != arming) {
            return; // disarmed (or armed again) since this ring was scheduled
        }
        rangAt = Math.min(rangAt, System.nanoTime());
        engine.stop();
        scheduleRing(forArming, RING_AGAIN_NANOS);
    }

    /** Whether this arming has rung yet (it may still be armed). */
    synchronized boolean hasRung() {
        return rangAt != Long.MAX_VALUE;
    }

    /**
     * After the engine returned at {@code returnedAt}: no ring of this arming reaches it any more. Returns whether
     * the alarm rang before the engine returned, and so may be why it did (a ring after that stopped nothing).
     */
    synchronized boolean disarm(long returnedAt) {
        arming++;
        if (scheduled != null) {
            scheduled.cancel(false);
            scheduled = null;
        }
        return rangAt <= returnedAt;
    }
}
