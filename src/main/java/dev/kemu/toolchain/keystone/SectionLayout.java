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

    /**
     * A stretch of fill whose length depends on where it lands: to {@code alignment} (absolute, as ld
     * aligns a section) or to {@code org} bytes from the image start ({@code .org} in the first section).
     * It is a label named {@code marker}, then a {@code .byte} placeholder the linker fills.
     */
    record Gap(long alignment, long org, boolean codeFill, Statement origin) {
        /** The fill's length when the marker lands at {@code at}, {@code base} being the image's start. */
        long length(long at, long base) {
            return alignment > 0 ? Math.floorMod(-at, alignment) : base + org - at;
        }
    }

    /** The statements in link order, with the gaps between their markers and placeholders. */
    record Layout(List<Statement> statements, Map<String, Gap> gaps) {
    }

    /** The statements in link order, or the problems (a section the linker script does not place). */
    static Layout layOut(List<Statement> statements, List<Diagnostic> problems) {
        Map<String, Gap> gaps = new LinkedHashMap<>();
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
            if (s.head().equals(".org")) {
                Long org = number(s.operands().split(",")[0]);
                if (!current.equals(".text") || !sections.keySet().iterator().next().equals(current) || org == null
                        || s.operands().contains(",")) {
                    problems.add(new Diagnostic(s.file(), s.line(), "`" + s.text() + "`: kemu's Keystone backend takes "
                            + "`.org` only as a number, without a fill, in .text (the first section); write `.zero` "
                            + "or `.fill` with the count, or use GNU as"));
                    continue;
                }
                addGap(section, gaps, new Gap(0, org, false, s));
                continue;
            }
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
                        addGap(out, gaps, new Gap(alignment, 0, true, first)); // ld's NOPs (CodeFill), not Keystone's
                    }
                    out.add(new Statement(first.file(), first.line(), ".code" + first.bits(), first.bits()));
                    out.addAll(body);
                }
            });
        }
        return new Layout(out, gaps);
    }

    static final String GAP = LocalLabels.PREFIX + "gap";

    private static void addGap(List<Statement> to, Map<String, Gap> gaps, Gap gap) {
        Statement at = gap.origin();
        String marker = GAP + gaps.size();
        gaps.put(marker, gap);
        to.add(new Statement(at.file(), at.line(), marker + ":", at.bits()));
        to.add(new Statement(at.file(), at.line(), ".byte", at.bits()));
    }

    private static Long number(String text) {
        try {
            return Long.decode(text.strip());
        } catch (NumberFormatException e) {
            return null;
        }
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
