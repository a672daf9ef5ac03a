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
 * JUnit Platform launcher (discovery, extension, snapshot restore, snippet, assertion), one
 * warm-up run, then repetitions. Prints "tests_per_second min median".
 */
public final class TestsPerSecond {
    public static void main(String[] args) {
        int repetitions = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        Launcher launcher = LauncherFactory.create();
        LauncherDiscoveryRequest request = request().selectors(selectClass(TrivialGuestCases.class)).build();
        double[] rates = new double[repetitions];
        for (int run = -1; run < repetitions; run++) {
            SummaryGeneratingListener listener = new SummaryGeneratingListener();
            long started = System.nanoTime();
            launcher.execute(request, listener);
            double seconds = (System.nanoTime() - started) / 1e9;
            long passed = listener.getSummary().getTestsSucceededCount();
            if (passed != TrivialGuestCases.REPETITIONS) {
                throw new IllegalStateException(passed + " of " + TrivialGuestCases.REPETITIONS + " tests passed: "
                        + listener.getSummary().getFailures());
            }
            if (run >= 0) {
                rates[run] = passed / seconds;
            }
        }
        Arrays.sort(rates);
        System.out.printf("tests_per_second %.0f %.0f tests/s%n", rates[0], rates[repetitions / 2]);
    }
}
