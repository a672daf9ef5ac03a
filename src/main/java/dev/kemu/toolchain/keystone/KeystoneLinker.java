package dev.kemu.toolchain.keystone;

import dev.kemu.toolchain.AssemblyException;
import dev.kemu.toolchain.Diagnostic;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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

    /** Assembles and lays out {@code sources} at {@code address}; {@code externals} gives other symbols' addresses. */
    public Linked link(List<Source> sources, long address, Function<String, OptionalLong> externals) {
        List<Statement> split = new ArrayList<>();
        for (Source source : sources) {
            split.addAll(SourceSplitter.split(source.text(), source.file()));
        }
        // one flat image has no symbol bindings; and Keystone leaves a global label's value unrelocated
        split.removeIf(s -> s.head().equals(".global") || s.head().equals(".globl"));
        split = LocalLabels.respell(MacroExpander.expand(split));
        String file = sources.isEmpty() ? "snippet" : sources.getFirst().file();
        List<Diagnostic> problems = new ArrayList<>();
        List<Statement> laidOut = SectionLayout.layOut(split, problems);
        if (!problems.isEmpty()) {
            throw new AssemblyException("Keystone cannot lay out " + file + " as written", problems);
        }
        Map<String, Long> externalValues = externalsOf(laidOut, externals);
        List<Statement> statements = new ArrayList<>();
        externalValues.forEach((name, value) -> statements.add(
                new Statement(file, 0, name + " = 0x" + Long.toHexString(value), 64)));
        Map<Integer, String> ripTargets = new LinkedHashMap<>(); // index of the end label -> external name
        for (Statement s : laidOut) {
            Matcher rip = RIP_EXTERNAL.matcher(s.text());
            if (rip.find() && externalValues.containsKey(rip.group(1)) && !s.head().startsWith(".")) {
                statements.add(new Statement(s.file(), s.line(), rip.replaceFirst("[rip + 0]"), s.bits()));
                ripTargets.put(statements.size(), rip.group(1));
                statements.add(new Statement(s.file(), s.line(), INTERNAL + "rip" + ripTargets.size() + ":", s.bits()));
            } else {
                statements.add(s);
            }
        }
        KeystoneAssembler.Labelled first = assembler.assembleLabelled(statements, file, address, externalValues.keySet());
        boolean padded = false;
        for (int i = 0; i + 1 < statements.size(); i++) {
            Statement from = statements.get(i);
            if (from.isLabel() && from.text().startsWith(LocalLabels.PREFIX + "pad") && from.text().endsWith(".from:")) {
                String pad = from.text().substring(0, from.text().length() - ".from:".length());
                long length = first.labels().get(pad + ".to") - first.labels().get(pad + ".from");
                Statement align = statements.get(i + 1);
                statements.set(i + 1, new Statement(align.file(), align.line(), CodeFill.directive((int) length), align.bits()));
                padded = true;
            }
        }
        if (ripTargets.isEmpty() && !padded) {
            return linked(first);
        }
        for (Map.Entry<Integer, String> target : ripTargets.entrySet()) {
            Statement end = statements.get(target.getKey());
            Statement at = statements.get(target.getKey() - 1);
            long displacement = externalValues.get(target.getValue()) - first.labels().get(end.text().substring(0, end.text().length() - 1));
            if (displacement != (int) displacement) {
                throw new AssemblyException("Keystone cannot link " + file, List.of(new Diagnostic(at.file(), at.line(),
                        "`" + target.getValue() + "` is more than 2 GiB from the snippet, out of reach of `[rip + "
                                + target.getValue() + "]`; load its address with `movabs reg, " + target.getValue() + "`")));
            }
            String spelled = displacement < 0 ? "[rip - 0x" + Long.toHexString(-displacement) + "]"
                    : "[rip + 0x" + Long.toHexString(displacement) + "]";
            statements.set(target.getKey() - 1, new Statement(at.file(), at.line(), at.text().replace("[rip + 0]", spelled),
                    at.bits()));
        }
        return linked(assembler.assembleLabelled(statements, file, address, externalValues.keySet()));
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
