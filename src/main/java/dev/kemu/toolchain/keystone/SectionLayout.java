package dev.kemu.toolchain.keystone;

import dev.kemu.toolchain.Diagnostic;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Lays a sectioned source out in one stream, as kemu's snippet linker script does with GNU ld
 * ({@code *(.text*) *(.rodata*) *(.data*) *(.bss*)}): Keystone traps on section directives, so the
 * statements of each section are gathered in the order GNU as creates the sections, and each
 * section starts at its alignment (the largest {@code .align} in it, as GNU as records it), padded
 * with the NOPs ld pads with between input sections of an executable output section ({@link CodeFill}). Alignment inside data sections is padded with
 * zeros too (GNU as pads with NOPs only in code sections); the {@code .code16/32/64} mode in force
 * at each statement, in source order, is restated where the stream moves it.
 */
final class SectionLayout {
    private static final List<String> ORDER = List.of(".text", ".rodata", ".data", ".bss");
    private static final Pattern ALIGN = Pattern.compile("(?i)^\\.(align|balign|p2align)\\s+([^,]+)(,.*)?$");

    private SectionLayout() {
    }

    /** The statements in link order, or the problems (a section the linker script does not place). */
    static List<Statement> layOut(List<Statement> statements, List<Diagnostic> problems) {
        Map<String, List<Statement>> sections = new LinkedHashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        String current = ".text";
        String previous = ".text";
        for (Statement s : statements) {
            String target = switchedTo(s, current, previous, stack);
            if (target != null) {
                if (ORDER.stream().noneMatch(target::startsWith)) {
                    problems.add(new Diagnostic(s.file(), s.line(), "`" + s.text() + "`: kemu places only .text*, "
                            + ".rodata*, .data* and .bss* sections in a snippet (as its GNU ld script does); put the "
                            + "code or data in one of those"));
                    target = ".text";
                }
                if (!target.equals(current)) {
                    previous = current;
                    current = target;
                }
                continue;
            }
            List<Statement> section = sections.computeIfAbsent(current, k -> new ArrayList<>());
            boolean code = current.startsWith(".text");
            section.add(code ? s : zeroFilled(s));
        }
        List<Statement> out = new ArrayList<>();
        for (String kind : ORDER) {
            sections.forEach((name, body) -> {
                if (name.startsWith(kind) && !body.isEmpty()) {
                    Statement first = body.getFirst();
                    long alignment = alignment(body);
                    if (!out.isEmpty() && alignment > 1) {
                        // measured between the two labels, then respelled in ld's NOPs (CodeFill)
                        String pad = LocalLabels.PREFIX + "pad" + out.size();
                        out.add(new Statement(first.file(), first.line(), pad + ".from:", first.bits()));
                        out.add(new Statement(first.file(), first.line(), ".balign " + alignment, first.bits()));
                        out.add(new Statement(first.file(), first.line(), pad + ".to:", first.bits()));
                    }
                    out.add(new Statement(first.file(), first.line(), ".code" + first.bits(), first.bits()));
                    out.addAll(body);
                }
            });
        }
        return out;
    }

    /** The section {@code s} switches to, or null when it is no section directive. */
    private static String switchedTo(Statement s, String current, String previous, Deque<String> stack) {
        String head = s.head();
        return switch (head) {
            case ".text", ".data", ".bss" -> head;
            case ".section" -> name(s.operands());
            case ".pushsection" -> {
                stack.push(current);
                yield name(s.operands());
            }
            case ".popsection" -> stack.isEmpty() ? current : stack.pop();
            case ".previous" -> previous;
            default -> null;
        };
    }

    private static String name(String operands) {
        String name = operands.split(",")[0].strip();
        return name.isEmpty() ? ".text" : name;
    }

    /** {@code .align 8} in a data section pads with zeros, as GNU as does there. */
    private static Statement zeroFilled(Statement s) {
        Matcher align = ALIGN.matcher(s.text());
        if (!align.matches() || align.group(3) != null) {
            return s;
        }
        return new Statement(s.file(), s.line(), s.text() + ", 0", s.bits());
    }

    /** The section's alignment: its largest alignment directive (x86 ELF: .align counts bytes). */
    private static long alignment(List<Statement> body) {
        long max = 1;
        for (Statement s : body) {
            Matcher align = ALIGN.matcher(s.text());
            if (align.matches()) {
                try {
                    long value = Long.decode(align.group(2).strip());
                    max = Math.max(max, align.group(1).toLowerCase(Locale.ROOT).equals("p2align") ? 1L << value : value);
                } catch (NumberFormatException e) {
                    // a symbolic alignment: Keystone evaluates it; the section start stays unaligned
                }
            }
        }
        return max;
    }
}
