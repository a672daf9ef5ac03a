package dev.kemu.kernel;

import dev.kemu.kernel.slab.SlubDebug;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * Memory debug modes for every machine of a JVM, from {@code -Dkemu.memoryDebug=...} ({@code make test-memdebug}):
 * a whole test suite then runs with SLUB debugging and KASAN without a change to one test. A machine whose caller
 * chooses its own modes ({@link KernelServices#slubDebug}, {@link KernelServices#kasan}) keeps them: that is a test
 * that provokes memory bugs on purpose. Findings of the machines that did take these modes are appended to the file
 * {@code -Dkemu.memoryDebug.findings=FILE} names, so that the run can fail on any of them after the suite.
 *
 * <p>The value is {@code all} (FZPU and KASAN), or parts joined by {@code +}: {@code kasan}, and slub_debug letters
 * ({@code FZPU+kasan}, {@code ZU}).
 *
 * @param slub  the slab debug modes, {@link SlubDebug#OFF} when none
 * @param kasan KASAN
 */
public record SuiteMemoryDebug(SlubDebug slub, boolean kasan) {
    public static final String PROPERTY = "kemu.memoryDebug";
    public static final String FINDINGS_PROPERTY = "kemu.memoryDebug.findings";
    /** A file of findings made on purpose, one per line: substrings a report must all contain, joined by " @ ". */
    public static final String EXPECTED_PROPERTY = "kemu.memoryDebug.expected";
    /** The test a runner thread runs guest code for (set by {@link #attributed}). */
    private static final ThreadLocal<String> RUNNING_FOR = new ThreadLocal<>();
    private static List<List<String>> expected;
    public static final SuiteMemoryDebug NONE = new SuiteMemoryDebug(SlubDebug.OFF, false);

    /** The modes {@code -Dkemu.memoryDebug} asks for, {@link #NONE} without it; a bad value is refused with its fix. */
    public static SuiteMemoryDebug fromProperty() {
        return parse(System.getProperty(PROPERTY, ""));
    }

    static SuiteMemoryDebug parse(String value) {
        String text = value.trim();
        if (text.isEmpty() || text.equals("none")) {
            return NONE;
        }
        if (text.equals("all")) {
            return new SuiteMemoryDebug(new SlubDebug(SlubDebug.ALL, List.of()), true);
        }
        boolean kasan = false;
        SlubDebug slub = SlubDebug.OFF;
        for (String part : text.split("\\+")) {
            if (part.equals("kasan")) {
                kasan = true;
                continue;
            }
            SlubDebug letters;
            try {
                letters = SlubDebug.parse(part);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + ": '" + part + "' is neither 'kasan'"
                        + " nor slub_debug letters (" + e.getMessage() + "); use all, kasan, FZPU or FZPU+kasan", e);
            }
            if (slub != SlubDebug.OFF) {
                throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + ": two sets of slub_debug letters;"
                        + " give them once (e.g. FZPU+kasan)");
            }
            slub = letters;
        }
        return new SuiteMemoryDebug(slub, kasan);
    }

    public boolean any() {
        return slub.flags() != 0 || kasan;
    }

    /**
     * {@code work}, to run on another thread, made to name the calling test in its findings. Without the suite
     * modes it is {@code work} itself: the stack is walked only when a finding may need it.
     */
    public static <T> Callable<T> attributed(Callable<T> work) {
        if (System.getProperty(PROPERTY, "").isEmpty()) {
            return work;
        }
        String caller = testOnStack().orElse("");
        return () -> {
            RUNNING_FOR.set(caller);
            try {
                return work.call();
            } finally {
                RUNNING_FOR.remove();
            }
        };
    }

    /**
     * Appends one finding to the findings file, if one is named, unless the expected-findings file lists it.
     * Each finding names the test: from the calling thread's stack, else the one {@link #attributed} names.
     */
    static synchronized void recordFinding(String text) {
        String file = System.getProperty(FINDINGS_PROPERTY, "");
        if (expected == null) {
            expected = readExpected(System.getProperty(EXPECTED_PROPERTY, ""));
        }
        if (!file.isEmpty()) {
            String test = testOnStack().orElseGet(() -> RUNNING_FOR.get() != null ? RUNNING_FOR.get() : "an unknown caller");
            append(Path.of(file), text, expected, test);
        }
    }

    /**
     * Appends {@code text} and the test that made it to {@code file}, unless an {@code expected} entry matches it
     * (its parts are looked for in both, so that an entry may name the test that makes the bug on purpose).
     */
    static void append(Path file, String text, List<List<String>> expected, String test) {
        String finding = text + "\n  found while running " + test + "\n";
        if (expected.stream().anyMatch(parts -> parts.stream().allMatch(finding::contains))) {
            return;
        }
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            Files.writeString(file, finding + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append a memory debug finding to " + file, e);
        }
    }

    static List<List<String>> readExpected(String file) {
        if (file.isEmpty()) {
            return List.of();
        }
        try {
            return Files.readAllLines(Path.of(file), StandardCharsets.UTF_8).stream()
                    .map(line -> line.replaceFirst("\\s*#.*$", "").strip()).filter(line -> !line.isEmpty())
                    .map(line -> List.of(line.split("\\s+@\\s+"))).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("-D" + EXPECTED_PROPERTY + "=" + file + ": cannot read the expected"
                    + " findings (" + e.getMessage() + ")", e);
        }
    }

    /** The innermost test method on the calling thread's stack. */
    static Optional<String> testOnStack() {
        return StackWalker.getInstance().walk(frames -> frames
                .filter(f -> f.getClassName().endsWith("Test") || f.getClassName().contains("Test$"))
                .map(f -> f.getClassName() + "." + f.getMethodName()).findFirst());
    }
}
