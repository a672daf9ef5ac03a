package dev.kemu.byok;

import dev.kemu.testutil.HostTools;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Builds the kernels in {@code src/test/kernels} (their Makefile, the host's gcc/as/ld) into
 * {@code target/test-kernels}, once per test JVM; make rebuilds only what changed.
 */
final class TestKernelBuild {
    /** A guard against a hung make, not a speed goal: ~30 kernels on a loaded 2-core machine took over 120 s. */
    private static final long BUILD_LIMIT_SECONDS = 600;
    static final Path SOURCES = Path.of("src/test/kernels");
    static final Path OUTPUT = Path.of("target/test-kernels");
    private static final List<String> TOOLS = List.of("make", "gcc", "as", "ld", "objcopy");
    private static boolean built;

    private TestKernelBuild() {}

    /** The built image {@code name} (e.g. {@code serial32.elf}), building all test kernels first if needed. */
    static synchronized Path kernel(String name) {
        if (!built) {
            build();
            built = true;
        }
        Path image = OUTPUT.resolve(name).toAbsolutePath();
        if (!Files.isRegularFile(image)) {
            throw new IllegalStateException(image + " was not built: " + SOURCES + "/Makefile has no target for it");
        }
        return image;
    }

    /** The source file of a test kernel, e.g. for line numbers. */
    static Path source(String name) {
        return SOURCES.resolve(name).toAbsolutePath();
    }

    static String missingToolsMessage(List<String> missing) {
        return "the test kernels in " + SOURCES + " are built with " + String.join(", ", TOOLS) + ", but "
                + String.join(" and ", missing) + (missing.size() == 1 ? " is" : " are") + " not on the PATH; install "
                + "them (Debian: apt-get install gcc binutils make) and run the tests again";
    }

    private static void build() {
        if (!Files.isDirectory(SOURCES)) {
            throw new IllegalStateException(SOURCES.toAbsolutePath() + " not found: run the tests from the repository "
                    + "root (scripts/mvn.sh test does)");
        }
        List<String> missing = HostTools.missing(TOOLS);
        if (!missing.isEmpty()) {
            throw new IllegalStateException(missingToolsMessage(missing));
        }
        List<String> command = List.of("make", "-s", "-C", SOURCES.toString(), "OUT=" + OUTPUT.toAbsolutePath());
        try {
            Path log = Files.createTempFile("test-kernels", ".log");
            try {
                Process make = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
                boolean finished = make.waitFor(BUILD_LIMIT_SECONDS, TimeUnit.SECONDS);
                if (!finished) {
                    make.destroyForcibly().waitFor();
                }
                if (!finished || make.exitValue() != 0) {
                    throw new IllegalStateException(String.join(" ", command) + (finished ? " failed with status "
                            + make.exitValue() : " did not finish within " + BUILD_LIMIT_SECONDS + " s") + ":\n"
                            + Files.readString(log, StandardCharsets.UTF_8));
                }
            } finally {
                Files.deleteIfExists(log);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while building the test kernels", e);
        }
    }
}
