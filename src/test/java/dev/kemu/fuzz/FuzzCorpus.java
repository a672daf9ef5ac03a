package dev.kemu.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The corpus of minimal reproductions that fuzzing found ({@code src/test/resources/fuzz-corpus}):
 * {@code hypercalls/*.txt} ({@link HypercallScript}) and {@code programs/*.S} (guest snippets).
 * {@code make test} replays every file; a campaign run with {@code -Dkemu.fuzz.corpus=DIR}
 * writes each failure it finds there, overwriting it while jqwik shrinks, so the file ends as
 * the shrunk reproduction.
 */
public final class FuzzCorpus {
    public static final String PROPERTY = "kemu.fuzz.corpus";
    private static final Path SOURCE = Path.of("src/test/resources/fuzz-corpus");
    /** One name per campaign JVM, so that a run's shrinking overwrites its own file and no other. */
    private static final String RUN = Long.toString(System.currentTimeMillis(), 36);

    private FuzzCorpus() {
    }

    /** The files of {@code kind} ("hypercalls" or "programs") ending in {@code suffix}, sorted. */
    public static List<Path> files(String kind, String suffix) {
        Path dir = SOURCE.resolve(kind);
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("the fuzz corpus " + dir.toAbsolutePath()
                    + " is missing: run the tests from the repository root");
        }
        try (Stream<Path> listing = Files.list(dir)) {
            return listing.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the fuzz corpus " + dir, e);
        }
    }

    public static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read corpus file " + file, e);
        }
    }

    /**
     * When a campaign set {@code -Dkemu.fuzz.corpus}, writes {@code text} as
     * {@code <kind>/found-<campaign>-<what><suffix>} there and says so on the standard error.
     */
    public static void recordFailure(String kind, String what, String suffix, String text) {
        String dir = System.getProperty(PROPERTY);
        if (dir == null || dir.isBlank()) {
            return;
        }
        Path file = Path.of(dir, kind, "found-" + RUN + "-" + what + suffix);
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, text);
            System.err.println("kemu.fuzz: reproduction written to " + file);
        } catch (IOException e) {
            System.err.println("kemu.fuzz: cannot write the reproduction " + file + ": " + e);
        }
    }
}
