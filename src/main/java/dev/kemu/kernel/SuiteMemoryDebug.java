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
    private static volatile String lastTest = "";
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
            try {
                slub = SlubDebug.parse(part);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + ": '" + part + "' is neither 'kasan'"
                        + " nor slub_debug letters (" + e.getMessage() + "); use all, kasan, FZPU or FZPU+kasan", e);
            }
        }
        return new SuiteMemoryDebug(slub, kasan);
    }

    public boolean any() {
        return slub.flags() != 0 || kasan;
    }

    /** The JUnit extension names the test it starts, for findings made on its runner thread. */
    public static void testStarted(String name) {
        lastTest = name;
    }

    /**
     * Appends one finding to the findings file, if one is named, unless the expected-findings file lists it.
     * Each finding names the test: from the calling thread's stack, else the test the extension started last.
     */
    static synchronized void recordFinding(String text) {
        String file = System.getProperty(FINDINGS_PROPERTY, "");
        if (expected == null) {
            expected = readExpected(System.getProperty(EXPECTED_PROPERTY, ""));
        }
        if (!file.isEmpty()) {
            append(Path.of(file), text, expected, testOnStack().orElse(lastTest + " (the JUnit extension's last test)"));
        }
    }

    /** Appends {@code text} and the test that made it to {@code file}, unless an {@code expected} entry matches it. */
    static void append(Path file, String text, List<List<String>> expected, String test) {
        if (expected.stream().anyMatch(parts -> parts.stream().allMatch(text::contains))) {
            return;
        }
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            Files.writeString(file, text + "\n  found while running " + test + "\n\n", StandardCharsets.UTF_8,
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
    private static Optional<String> testOnStack() {
        return StackWalker.getInstance().walk(frames -> frames
                .filter(f -> f.getClassName().endsWith("Test") || f.getClassName().contains("Test$"))
                .map(f -> f.getClassName() + "." + f.getMethodName()).findFirst());
    }
}
