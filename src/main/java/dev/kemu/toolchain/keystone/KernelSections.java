package dev.kemu.toolchain.keystone;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One GNU assembly file cut into the code of each of its sections, as Keystone (which traps on
 * section directives) can take it: for each code section ({@code .text*}, {@code .boot.text}) the
 * file's text with every line that belongs to another section blanked, so line numbers stay the
 * file's own. Kept in every section: what GNU as holds for the whole file, whatever the section:
 * constants ({@code .set}, {@code .equ}, {@code name = value}), macro definitions and the code mode
 * ({@code .code16/32/64} is per file in GNU as, not per section). The files named by {@code .include}
 * come first, as sources of their own.
 */
final class KernelSections {
    /** A code section of one file: the include files' texts, then the file's own lines for that section. */
    record CodeSection(String file, String section, List<KeystoneLinker.Source> sources, String firstLabel) {
    }

    private static final Pattern SECTION = Pattern.compile("^\\.(?:section|pushsection)\\s+([\\w.]+).*");
    private static final Pattern SHORT_SECTION = Pattern.compile("^\\.(text|data|bss|rodata)\\b.*");
    private static final Pattern INCLUDE = Pattern.compile("^\\.include\\s+\"([^\"]+)\".*");
    private static final Pattern LABEL = Pattern.compile("^([A-Za-z_][\\w.$]*):.*");
    private static final Pattern FILE_WIDE = Pattern.compile(
            "(?i)^(?:\\.set\\s|\\.equ\\s|\\.code(?:16|32|64)\\b|[A-Za-z_][\\w.$]*\\s*=).*");

    private KernelSections() {
    }

    /** The code sections of {@code file}, in the order they first appear. */
    static List<CodeSection> of(Path file, List<Path> includeDirs) {
        List<String> lines = read(file);
        List<KeystoneLinker.Source> includes = new ArrayList<>();
        String[] owner = new String[lines.size()]; // the section a line belongs to; FILE_WIDE; null: none
        Set<String> sectionNames = new LinkedHashSet<>();
        Deque<String> pushed = new ArrayDeque<>();
        String current = ".text"; // GNU as starts every file in .text
        boolean inMacro = false;
        for (int i = 0; i < lines.size(); i++) {
            String s = code(lines.get(i));
            Matcher section = SECTION.matcher(s);
            Matcher include = INCLUDE.matcher(s);
            if (s.startsWith(".popsection")) {
                current = pushed.isEmpty() ? current : pushed.pop();
            } else if (section.matches() || SHORT_SECTION.matcher(s).matches()) {
                if (s.startsWith(".pushsection")) {
                    pushed.push(current);
                }
                current = section.matches() ? section.group(1) : s.split("\\s")[0];
            } else if (include.matches()) {
                includes.addAll(included(include.group(1), file, includeDirs));
            } else if (s.startsWith(".macro") || inMacro || FILE_WIDE.matcher(s).matches()) {
                inMacro = (inMacro || s.startsWith(".macro")) && !s.startsWith(".endm");
                owner[i] = FILE_WIDE_OWNER;
            } else if (!s.isEmpty() && !s.startsWith(".intel_syntax")) {
                owner[i] = current;
                sectionNames.add(current);
            }
        }
        List<CodeSection> code = new ArrayList<>();
        for (String name : sectionNames) {
            if (!name.contains("text")) {
                continue;
            }
            String firstLabel = null;
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < lines.size(); i++) {
                boolean kept = name.equals(owner[i]) || FILE_WIDE_OWNER.equals(owner[i]);
                Matcher label = LABEL.matcher(code(lines.get(i)));
                if (kept && firstLabel == null && name.equals(owner[i]) && label.matches()
                        && !label.group(1).startsWith(".L")) {
                    firstLabel = label.group(1);
                }
                text.append(kept ? lines.get(i) : "").append('\n');
            }
            List<KeystoneLinker.Source> sources = new ArrayList<>(includes);
            sources.add(new KeystoneLinker.Source(text.toString(), file.toString()));
            code.add(new CodeSection(file.getFileName().toString(), name, sources, firstLabel));
        }
        return code;
    }

    private static final String FILE_WIDE_OWNER = "(file)";

    private static List<KeystoneLinker.Source> included(String name, Path from, List<Path> includeDirs) {
        List<Path> candidates = new ArrayList<>();
        candidates.add(from.toAbsolutePath().getParent().resolve(name));
        includeDirs.forEach(d -> candidates.add(d.resolve(name)));
        for (Path candidate : candidates) {
            if (Files.isRegularFile(candidate)) {
                List<KeystoneLinker.Source> sources = new ArrayList<>();
                StringBuilder text = new StringBuilder();
                for (String line : read(candidate)) {
                    Matcher nested = INCLUDE.matcher(code(line));
                    if (nested.matches()) {
                        sources.addAll(included(nested.group(1), candidate, includeDirs));
                        text.append('\n');
                    } else {
                        text.append(line).append('\n');
                    }
                }
                sources.add(new KeystoneLinker.Source(text.toString(), candidate.toString()));
                return sources;
            }
        }
        throw new UncheckedIOException(new IOException(from + ": .include \"" + name + "\" found in none of "
                + candidates.stream().map(Path::getParent).distinct().toList()));
    }

    private static List<String> read(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read assembly source " + file, e);
        }
    }

    /** The line without its {@code #} comment, stripped (section lines hold no strings with {@code #}). */
    private static String code(String line) {
        int hash = line.indexOf('#');
        return (hash < 0 ? line : line.substring(0, hash)).strip();
    }
}
