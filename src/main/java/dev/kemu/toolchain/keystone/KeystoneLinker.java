package dev.kemu.toolchain.keystone;

import dev.kemu.toolchain.AssemblyException;
import dev.kemu.toolchain.Diagnostic;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keystone in the place of GNU as + ld for code placed at one address (test snippets): sections laid out
 * as the snippet linker script does ({@link SectionLayout}), and symbols the source does not define
 * resolved from {@code externals} (the kernel's, as {@code ld --just-symbols} would). An external becomes
 * a {@code name = value} constant, which gives {@code call name} and {@code .quad name} GNU's bytes; a
 * RIP-relative {@code [rip + name]} is resolved in a second pass from the statement's end address (its
 * displacement is always 32 bits, so the first pass fixes every address); a bare {@code name} operand,
 * which GNU as reads as a load from it, is refused with the spellings that work.
 */
public final class KeystoneLinker {
    /** One piece of the source and the file its errors name. */
    public record Source(String text, String file) {
    }

    /** Code and data from {@code address} on, and every label of the source (not {@code .L} ones) with its address. */
    public record Linked(byte[] image, Map<String, Long> labels) {
    }

    private static final String INTERNAL = LocalLabels.PREFIX;
    private static final Pattern IDENTIFIER = Pattern.compile("(?<![\\w.$\\\\])[A-Za-z_][\\w.$]*");
    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");
    private static final Pattern RIP_EXTERNAL = Pattern.compile("(?i)\\[\\s*rip\\s*\\+\\s*([A-Za-z_][\\w.$]*)\\s*\\]");

    private final KeystoneAssembler assembler = new KeystoneAssembler();

    /** Sources this long (kemu.inc, the first source of every snippet) are split once, not per snippet. */
    private static final int MEMO_MIN_CHARS = 1024;
    private static final int MEMO_MAX_ENTRIES = 8;

    private record SplitKey(String text, String file, int bits) {
    }

    private final Map<SplitKey, List<Statement>> splitMemo = new java.util.concurrent.ConcurrentHashMap<>();

    private List<Statement> split(Source source, int bits) {
        if (source.text().length() < MEMO_MIN_CHARS) {
            return SourceSplitter.split(source.text(), source.file(), bits);
        }
        if (splitMemo.size() >= MEMO_MAX_ENTRIES) {
            splitMemo.clear();
        }
        return splitMemo.computeIfAbsent(new SplitKey(source.text(), source.file(), bits),
                key -> List.copyOf(SourceSplitter.split(key.text(), key.file(), key.bits())));
    }

    /**
     * A first source (kemu.inc) as every link starts it, worked out once: its macros, and its statements
     * (definitions and {@code .global} gone) with their constants' uses. Only for a source that defines and
     * mentions no local label, so the statements after it are respelled alike without it.
     */
    private record Prepared(Map<String, MacroExpander.Macro> macros, UsedConstants constants, int bitsAfter) {
    }

    private final Map<SplitKey, Optional<Prepared>> preparedMemo = new java.util.concurrent.ConcurrentHashMap<>();

    private Optional<Prepared> prepared(Source first) {
        if (first.text().length() < MEMO_MIN_CHARS) {
            return Optional.empty();
        }
        if (preparedMemo.size() >= MEMO_MAX_ENTRIES) {
            preparedMemo.clear();
        }
        return preparedMemo.computeIfAbsent(new SplitKey(first.text(), first.file(), 64), key -> {
            List<Statement> split = new ArrayList<>(split(first, 64));
            int bits = bitsAfter(split, 64);
            split.removeIf(KeystoneLinker::isGlobal);
            Map<String, MacroExpander.Macro> macros = new HashMap<>();
            List<Statement> expanded;
            try {
                expanded = MacroExpander.expand(split, macros);
            } catch (AssemblyException e) {
                return Optional.empty(); // the whole goes the general way, which reports it
            }
            return LocalLabels.noneIn(expanded)
                    ? Optional.of(new Prepared(Map.copyOf(macros), UsedConstants.of(expanded), bits))
                    : Optional.empty();
        });
    }

    /**
     * Assembles and lays out {@code sources} at {@code address}; {@code externals} gives other symbols' addresses;
     * {@code name} is what the error summaries call the whole (each message names its own source's file and line).
     */
    public Linked link(String name, List<Source> sources, long address, Function<String, OptionalLong> externals) {
        Optional<Prepared> prepared = sources.size() > 1 ? prepared(sources.getFirst()) : Optional.empty();
        List<Statement> split;
        if (prepared.isPresent()) {
            // the same statements as the general way below, without going over kemu.inc's again
            List<Statement> rest = statementsOf(sources.subList(1, sources.size()), prepared.get().bitsAfter());
            rest.removeIf(KeystoneLinker::isGlobal);
            List<Statement> expanded = MacroExpander.expand(rest, new HashMap<>(prepared.get().macros()));
            split = UsedConstants.kept(prepared.get().constants(), UsedConstants.of(LocalLabels.respell(expanded)));
        } else {
            split = statementsOf(sources, 64);
            // one flat image has no symbol bindings; and Keystone leaves a global label's value unrelocated
            split.removeIf(KeystoneLinker::isGlobal);
            split = UsedConstants.kept(LocalLabels.respell(MacroExpander.expand(split)));
        }
        split.replaceAll(QuirkGuards::segmentLoadWidened);
        String file = name;
        List<Diagnostic> problems = new ArrayList<>();
        SectionLayout.Layout layout = SectionLayout.layOut(split, problems);
        if (!problems.isEmpty()) {
            throw new AssemblyException("Keystone cannot lay out " + file + " as written", problems);
        }
        Map<String, Long> externalValues = externalsOf(layout.statements(), externals);
        List<Statement> statements = new ArrayList<>();
        externalValues.forEach((symbol, value) -> statements.add(
                new Statement(file, 0, symbol + " = 0x" + Long.toHexString(value), 64)));
        // what depends on addresses: index of a statement -> its rule (a RIP-relative external, a gap)
        Map<Integer, String> ripTargets = new LinkedHashMap<>();
        Map<Integer, SectionLayout.Gap> gaps = new LinkedHashMap<>();
        for (Statement s : layout.statements()) {
            Matcher rip = RIP_EXTERNAL.matcher(s.text());
            if (rip.find() && externalValues.containsKey(rip.group(1)) && !s.head().startsWith(".")) {
                statements.add(new Statement(s.file(), s.line(), rip.replaceFirst(RIP_PLACEHOLDER), s.bits()));
                ripTargets.put(statements.size() - 1, rip.group(1));
                statements.add(new Statement(s.file(), s.line(), INTERNAL + "rip" + ripTargets.size() + ":", s.bits()));
            } else {
                if (s.isLabel() && layout.gaps().containsKey(name(s))) {
                    gaps.put(statements.size() + 1, layout.gaps().get(name(s)));
                }
                statements.add(s);
            }
        }
        List<Statement> current = new ArrayList<>(statements);
        Set<String> externalNames = externalValues.keySet();
        // Each pass fixes what depends on the addresses the last pass gave; a gap's length can move later
        // code (a branch across it may grow), so passes repeat until nothing changes.
        for (int pass = 0; pass < MAX_PASSES; pass++) {
            KeystoneAssembler.Labelled result = assembler.assembleLabelled(current, file, address, externalNames);
            List<Statement> next = new ArrayList<>(statements);
            for (Map.Entry<Integer, String> target : ripTargets.entrySet()) {
                int i = target.getKey();
                long end = result.labels().get(name(statements.get(i + 1)));
                next.set(i, ripResolved(statements.get(i), target.getValue(), externalValues.get(target.getValue()) - end, file));
            }
            for (Map.Entry<Integer, SectionLayout.Gap> gap : gaps.entrySet()) {
                int i = gap.getKey();
                long length = gap.getValue().length(result.labels().get(name(statements.get(i - 1))), address);
                Statement at = statements.get(i);
                if (length < 0) {
                    Statement origin = gap.getValue().origin();
                    throw new AssemblyException("Keystone cannot lay out " + file, List.of(new Diagnostic(origin.file(),
                            origin.line(), "`" + origin.text() + "` would move the location backwards (by " + -length
                                    + " bytes)")));
                }
                next.set(i, new Statement(at.file(), at.line(), gap.getValue().codeFill() ? CodeFill.directive((int) length)
                        : length == 0 ? ".byte" : ".zero " + length, at.bits()));
            }
            if (next.equals(current)) {
                return linked(result);
            }
            current = next;
        }
        throw new AssemblyException("Keystone cannot lay out " + file, List.of(new Diagnostic(file, 0,
                "the addresses did not settle after " + MAX_PASSES + " passes (alignment or .org against branches"
                        + " that grow across them)")));
    }

    /** The statements of {@code sources} in order; the code mode carries from one into the next, as in one GNU source. */
    private List<Statement> statementsOf(List<Source> sources, int bits) {
        List<Statement> statements = new ArrayList<>();
        for (Source source : sources) {
            List<Statement> part = split(source, bits);
            bits = bitsAfter(part, bits);
            statements.addAll(part);
        }
        return statements;
    }

    private static int bitsAfter(List<Statement> part, int bits) {
        if (part.isEmpty()) {
            return bits;
        }
        Statement last = part.getLast();
        return last.isCodeMode() ? Integer.parseInt(last.head().substring(".code".length())) : last.bits();
    }

    private static boolean isGlobal(Statement s) {
        return s.head().equals(".global") || s.head().equals(".globl");
    }

    private static final int MAX_PASSES = 6;
    private static final String RIP_PLACEHOLDER = "[rip + 0]";

    private static Statement ripResolved(Statement at, String target, long displacement, String file) {
        if (displacement != (int) displacement) {
            throw new AssemblyException("Keystone cannot link " + file, List.of(new Diagnostic(at.file(), at.line(),
                    "`" + target + "` is more than 2 GiB from the snippet, out of reach of `[rip + " + target
                            + "]`; load its address with `movabs reg, " + target + "`")));
        }
        String spelled = displacement < 0 ? "[rip - 0x" + Long.toHexString(-displacement) + "]"
                : "[rip + 0x" + Long.toHexString(displacement) + "]";
        return new Statement(at.file(), at.line(), at.text().replace(RIP_PLACEHOLDER, spelled), at.bits());
    }

    private static String name(Statement label) {
        return label.text().substring(0, label.text().length() - 1);
    }

    private static Linked linked(KeystoneAssembler.Labelled labelled) {
        Map<String, Long> labels = new LinkedHashMap<>();
        labelled.labels().forEach((name, value) -> {
            if (!name.startsWith(INTERNAL)) {
                labels.put(name, value);
            }
        });
        return new Linked(labelled.code(), labels);
    }

    /** The symbols the statements use but do not define, that {@code externals} knows, with their addresses. */
    private static Map<String, Long> externalsOf(List<Statement> statements, Function<String, OptionalLong> externals) {
        Set<String> defined = new HashSet<>();
        for (Statement s : statements) {
            if (s.isLabel()) {
                defined.add(s.text().substring(0, s.text().length() - 1));
            } else if (s.isAssignment()) {
                defined.add(QuirkGuards.assignedName(s));
            } else if (s.head().equals(".macro")) {
                defined.add(s.operands().split("[\\s,]")[0]);
            }
        }
        Set<String> used = new LinkedHashSet<>();
        for (Statement s : statements) {
            if (s.isLabel() || s.head().equals(".macro")) {
                continue;
            }
            String operands = s.isAssignment() ? s.text().substring(s.text().indexOf(s.text().contains("=") ? '=' : ',') + 1)
                    : s.operands();
            Matcher names = IDENTIFIER.matcher(STRING.matcher(operands).replaceAll("\"\""));
            while (names.find()) {
                String name = names.group();
                if (!defined.contains(name) && !QuirkGuards.isRegister(name.toLowerCase(Locale.ROOT))) {
                    used.add(name);
                }
            }
        }
        Map<String, Long> values = new LinkedHashMap<>();
        for (String name : used) {
            OptionalLong value = externals.apply(name);
            if (value.isPresent()) {
                values.put(name, value.getAsLong());
            }
        }
        return values;
    }
}
