package dev.kemu.testing;

import dev.kemu.kernel.SuiteMemoryDebug;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The last-resort wall-clock limit of a machine's guest runs (issue 11, defect 6). The
 * instruction budget stops guest code but not Java code inside a hypercall, so a service
 * looping over corrupted guest metadata would hang a test forever. Runs therefore happen on
 * one runner thread per machine while the caller waits at most the limit:
 * <ol>
 *   <li>at the limit the machine is told to stop, which ends a guest running uncounted;</li>
 *   <li>if the run still has not returned a grace period later, host code is stuck: the
 *       watchdog gives up on the machine for good (the stuck thread still uses it, so it is never
 *       touched or closed again) and the caller gets a {@link GuestTimeoutException} naming the
 *       snippet and where the host code was.</li>
 * </ol>
 * Not a Unicorn timeout: Unicorn starts a timer thread for every timed {@code uc_emu_start}.
 *
 * <p>A run with a limit of zero ({@code -Dkemu.guest.timeout=0}) has nothing to watch: it happens on the
 * caller's own thread, without the two thread wake-ups of the handoff (10-40 us in a VM, several times a
 * trivial run), and host code that never returns then hangs the test. Building and closing the machine
 * happen on the caller's thread too (Capstone's arena is shared, so an engine may change threads).
 */
final class RunWatchdog implements AutoCloseable {
    /** {@code -Dkemu.guest.timeout=30s} (also {@code 500ms}, {@code 2m}; {@code 0} = none). */
    static final String PROPERTY = "kemu.guest.timeout";
    static final Duration DEFAULT_LIMIT = Duration.ofSeconds(30);
    private static final Duration GRACE = Duration.ofSeconds(2);

    private ExecutorService runner;
    private Thread runnerThread;
    private volatile boolean abandoned;

    /** The limit {@code -Dkemu.guest.timeout} sets, or {@link #DEFAULT_LIMIT}. */
    static Duration configuredLimit() {
        String value = System.getProperty(PROPERTY);
        return value == null || value.isBlank() ? DEFAULT_LIMIT : parse(value.trim());
    }

    static Duration parse(String value) {
        try {
            if (value.equals("0")) {
                return Duration.ZERO;
            }
            if (value.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(value.substring(0, value.length() - 2)));
            }
            long amount = Long.parseLong(value.substring(0, value.length() - 1));
            return switch (value.charAt(value.length() - 1)) {
                case 's' -> Duration.ofSeconds(amount);
                case 'm' -> Duration.ofMinutes(amount);
                default -> throw new NumberFormatException();
            };
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(PROPERTY + "=" + value + " is not a duration: write e.g. 500ms, 30s, 2m, or 0 for no limit");
        }
    }

    boolean abandoned() {
        return abandoned;
    }

    /**
     * Runs {@code work} within {@code limit}; {@code stop} asks the machine to stop, {@code what}
     * names the run for the message (made only when one is needed). Exceptions of {@code work} reach the caller unchanged.
     */
    <T> T run(Callable<T> work, Duration limit, Runnable stop, Supplier<String> what) {
        if (abandoned) {
            throw new IllegalStateException("this machine was abandoned after a run overran its wall-clock limit; use a new one");
        }
        if (limit.isZero() || limit.isNegative()) {
            return onCaller(work);
        }
        Future<T> running = runner().submit(SuiteMemoryDebug.attributed(work));
        try {
            try {
                return running.get(limit.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException overran) {
                stop.run(); // a guest running uncounted ends here, as under Unicorn's own timeout
                try {
                    return running.get(GRACE.toNanos(), TimeUnit.NANOSECONDS);
                } catch (TimeoutException stuck) {
                    abandoned = true;
                    throw new GuestTimeoutException(String.format(
                            "the guest run did not end within its wall-clock limit of %s (%s), and host code did not return"
                                    + " %s after the machine was told to stop: a hypercall's Java service is stuck"
                                    + " (a loop over corrupted guest metadata?). The machine is abandoned; the next run needs"
                                    + " a new one. Host code was at:%n%s%nThe run: %s",
                            limit, PROPERTY, GRACE, where(), what.get()));
                }
            }
        } catch (ExecutionException failed) {
            throw rethrown(failed.getCause());
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the guest run: " + what.get(), interrupted);
        }
    }

    private static <T> T onCaller(Callable<T> work) {
        try {
            return work.call();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static RuntimeException rethrown(Throwable cause) {
        if (cause instanceof RuntimeException runtime) {
            return runtime;
        }
        if (cause instanceof Error error) {
            throw error;
        }
        return new IllegalStateException(cause);
    }

    private String where() {
        StackTraceElement[] stack = runnerThread != null ? runnerThread.getStackTrace() : new StackTraceElement[0];
        return Arrays.stream(stack).limit(12).map(frame -> "    at " + frame).collect(Collectors.joining("\n"));
    }

    private ExecutorService runner() {
        if (runner == null) {
            runner = Executors.newSingleThreadExecutor(task -> {
                runnerThread = new Thread(task, "kemu-guest-run");
                runnerThread.setDaemon(true); // a stuck run must not keep the JVM alive
                return runnerThread;
            });
        }
        return runner;
    }

    @Override
    public void close() {
        if (runner != null && !abandoned) {
            runner.shutdown();
        }
    }
}
