package dev.kemu.bench;

import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;

import java.util.Arrays;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;

/**
 * Guest regression tests per second on one core: runs {@link TrivialGuestCases} through the
 * JUnit Platform launcher (discovery, extension, snapshot restore, snippet, assertion), three
 * warm-up runs, then repetitions. Prints "tests_per_second min median". With a second argument
 * {@code distinct} it runs {@link DistinctSnippetGuestCases} (a new snippet in every test) and prints
 * "tests_per_second_distinct_ASSEMBLER" (the snippet assembler in use: -Dkemu.assembler); with
 * {@code threads} it runs {@link ConcurrentTrivialGuestCases} on two threads and prints
 * "tests_per_second_2_threads". With {@code -Dkemu.guest.timeout=0} (no watchdog) each name ends in "_unwatched".
 */
public final class TestsPerSecond {
    /** Launcher runs before the measured ones: the JIT compiles JUnit's and the harness's paths in the first ones. */
    static final int WARM_UP_RUNS = 3;

    public static void main(String[] args) {
        int repetitions = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        boolean distinct = args.length > 1 && args[1].equals("distinct");
        boolean threads = args.length > 1 && args[1].equals("threads");
        Class<?> cases = distinct ? DistinctSnippetGuestCases.class
                : threads ? ConcurrentTrivialGuestCases.class : TrivialGuestCases.class;
        int expected = distinct ? DistinctSnippetGuestCases.REPETITIONS : TrivialGuestCases.REPETITIONS;
        Launcher launcher = LauncherFactory.create();
        LauncherDiscoveryRequest request = request().selectors(selectClass(cases)).build();
        double[] rates = new double[repetitions];
        for (int run = -WARM_UP_RUNS; run < repetitions; run++) {
            SummaryGeneratingListener listener = new SummaryGeneratingListener();
            long started = System.nanoTime();
            launcher.execute(request, listener);
            double seconds = (System.nanoTime() - started) / 1e9;
            long passed = listener.getSummary().getTestsSucceededCount();
            if (passed != expected) {
                throw new IllegalStateException(passed + " of " + expected + " tests passed: "
                        + listener.getSummary().getFailures());
            }
            if (run >= 0) {
                rates[run] = passed / seconds;
            }
        }
        Arrays.sort(rates);
        String name = distinct ? "tests_per_second_distinct_" + System.getProperty("kemu.assembler", "default")
                : threads ? "tests_per_second_2_threads" : "tests_per_second";
        if ("0".equals(System.getProperty("kemu.guest.timeout"))) {
            name += "_unwatched"; // no wall-clock limit: runs on the test's own thread (RunWatchdog)
        }
        System.out.printf("%s %.0f %.0f tests/s%n", name, rates[0], rates[repetitions / 2]);
    }
}
