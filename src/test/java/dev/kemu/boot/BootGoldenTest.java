package dev.kemu.boot;

import dev.kemu.kernel.slab.SlubDebug;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The boot sequence (every stage with its registers and instruction count, then the console)
 * against a golden file. A change to the boot shows up as a line diff. After an intended
 * change, regenerate with {@code mvn test -Dtest=BootGoldenTest -Dkemu.golden.update=true}.
 */
class BootGoldenTest {
    private static final Path GOLDEN = KernelSources.home().resolve("src/test/resources/golden/boot-stages.txt");

    @Test
    void bootSequence_matchesTheGoldenFile() throws Exception {
        List<String> actual = new ArrayList<>();
        try (KernelBoot boot = new KernelBoot(TestKernels.defaultKernel(), BootOptions.defaults())) {
            boot.services().slubDebug(SlubDebug.OFF); // red zones move objects: the golden addresses are without them
            boot.services().kasan(false);
            BootReport report = boot.run();
            report.stages().forEach(stage -> actual.add(stage.line()));
            actual.add("--- console ---");
            actual.addAll(report.console().lines().toList());
            actual.add("--- end: " + report.run().reason() + ", " + report.run().instructions() + " instructions ---");
        }
        if (Boolean.getBoolean("kemu.golden.update") || !Files.exists(GOLDEN)) {
            Files.createDirectories(GOLDEN.getParent());
            Files.write(GOLDEN, actual);
            if (!Boolean.getBoolean("kemu.golden.update")) {
                fail("no golden file yet; wrote " + GOLDEN + ": review and commit it");
            }
            return;
        }
        List<String> expected = Files.readAllLines(GOLDEN);
        if (!expected.equals(actual)) {
            fail("the boot differs from " + GOLDEN + " (- golden, + now); if intended, rerun with "
                    + "-Dkemu.golden.update=true\n" + diff(expected, actual));
        }
    }

    /** A line diff by longest common subsequence: unchanged lines with two spaces, others with - or +. */
    static String diff(List<String> expected, List<String> actual) {
        int n = expected.size(), m = actual.size();
        int[][] lcs = new int[n + 1][m + 1];
        for (int i = n - 1; i >= 0; i--) {
            for (int j = m - 1; j >= 0; j--) {
                lcs[i][j] = expected.get(i).equals(actual.get(j)) ? lcs[i + 1][j + 1] + 1
                        : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
            }
        }
        StringBuilder text = new StringBuilder();
        int i = 0, j = 0;
        while (i < n || j < m) {
            if (i < n && j < m && expected.get(i).equals(actual.get(j))) {
                text.append("  ").append(expected.get(i++)).append('\n');
                j++;
            } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
                text.append("- ").append(expected.get(i++)).append('\n');
            } else {
                text.append("+ ").append(actual.get(j++)).append('\n');
            }
        }
        return text.toString();
    }
}
