package dev.kemu.testing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hand-off of runs to the watchdog's runner thread: every run happens on the one runner thread,
 * each caller gets its own run's value or exception, never a previous run's, also after a caller
 * stopped waiting because it was interrupted.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RunWatchdogTest {
    private static final Duration LIMIT = Duration.ofSeconds(20);

    @Test
    void runs_happenOnOneRunnerThread_andReturnTheirOwnValues() {
        try (RunWatchdog watchdog = new RunWatchdog()) {
            Thread first = watchdog.run(Thread::currentThread, LIMIT, () -> { }, () -> "first");
            for (int i = 0; i < 1000; i++) {
                int expected = i;
                assertEquals(expected, watchdog.run(() -> expected, LIMIT, () -> { }, () -> "a run"));
            }
            assertSame(first, watchdog.run(Thread::currentThread, LIMIT, () -> { }, () -> "last"));
            assertNotSame(Thread.currentThread(), first);
        }
    }

    @Test
    void runsWithoutALimit_happenOnTheCallersThread_andFailuresReachItUnchanged() {
        try (RunWatchdog watchdog = new RunWatchdog()) {
            assertSame(Thread.currentThread(), watchdog.run(Thread::currentThread, Duration.ZERO, () -> { }, () -> "unwatched"));
            IllegalArgumentException thrown = new IllegalArgumentException("bad guest");
            assertSame(thrown, assertThrows(IllegalArgumentException.class,
                    () -> watchdog.run(() -> { throw thrown; }, Duration.ZERO, () -> { }, () -> "failing")));
        }
    }

    @Test
    void aFailingRun_reachesTheCallerUnchanged_andTheNextRunReturnsItsValue() {
        try (RunWatchdog watchdog = new RunWatchdog()) {
            IllegalArgumentException thrown = new IllegalArgumentException("bad guest");
            assertSame(thrown, assertThrows(IllegalArgumentException.class,
                    () -> watchdog.run(() -> { throw thrown; }, LIMIT, () -> { }, () -> "failing")));
            assertEquals("next", watchdog.run(() -> "next", LIMIT, () -> { }, () -> "next"));
        }
    }

    @Test
    void anInterruptedCaller_getsAnError_andTheNextRunWaitsForTheLeftRunThenReturnsItsOwn() throws Exception {
        try (RunWatchdog watchdog = new RunWatchdog()) {
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicReference<Throwable> seen = new AtomicReference<>();
            Thread caller = new Thread(() -> {
                try {
                    watchdog.run(() -> {
                        started.countDown();
                        release.await();
                        throw new IllegalStateException("the left run's failure");
                    }, LIMIT, () -> { }, () -> "left");
                } catch (Throwable t) {
                    seen.set(t);
                }
            });
            caller.start();
            started.await();
            caller.interrupt();
            caller.join();
            assertTrue(seen.get().getMessage().contains("interrupted"), String.valueOf(seen.get()));
            release.countDown();
            assertEquals("own", watchdog.run(() -> "own", LIMIT, () -> { }, () -> "after"));
        }
    }
}
