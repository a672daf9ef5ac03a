package dev.kemu.toolchain.keystone;

import dev.kemu.toolchain.Diagnostic;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rejects, before Keystone sees them, the spellings Keystone 0.9.2 mis-assembles or traps on,
 * each with a message naming a spelling that both Keystone and GNU as assemble alike. The list
 * comes from the differential test against GNU as (docs/keystone.md).
 */
final class QuirkGuards {
    private static final Set<String> SECTION_DIRECTIVES = Set.of(
            ".text", ".data", ".bss", ".section", ".pushsection", ".popsection", ".previous", ".rodata");
    private static final Pattern NAME_END = Pattern.compile("[,\\s]");
    private static final Pattern FAR_POINTER = Pattern.compile("(?i)^(?:far\\s+)?(0x[0-9a-f]+|\\d+)\\s*:\\s*(.+)$");
    private static final Pattern INCOMPLETE = Pattern.compile(".*[+\\-*,\\[]\\s*$");
    private static final Pattern MEMORY = Pattern.compile("\\[([^\\]]*)\\]");
    private static final Pattern NUMERIC_REFERENCE = Pattern.compile("(?<![\\w.$])\\d+[bf]\\b");
    private static final Pattern RIP_RELATIVE = Pattern.compile("(?i)\\[\\s*rip\\s*\\+\\s*([A-Za-z_.$][\\w.$]*)\\s*\\]");
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_.$][\\w.$]*");
    private static final Set<String> BRANCHES = Set.of(
            "jmp", "call", "loop", "loope", "loopne", "loopz", "loopnz", "jecxz", "jrcxz", "jcxz", "ljmp", "lcall");
    private static final Set<String> PREFIXES = Set.of("rep", "repe", "repz", "repne", "repnz", "lock");
    private static final Set<String> REGISTERS = registers();
    private static final Pattern NAME_IN_EXPRESSION = Pattern.compile("(?<![\\w.$])[A-Za-z_.$][\\w.$]*");
    private static final Pattern SCALED_NAME = Pattern.compile("(?<![\\w.$])([A-Za-z_.$][\\w.$]*)\\s*\\*");
    private static final Pattern SEGMENT_FROM_16_BIT = Pattern.compile(
            "(?i)(cs|ds|es|fs|gs|ss)\\s*,\\s*(ax|bx|cx|dx|si|di|sp|bp|r(?:[89]|1[0-5])w)");

    private QuirkGuards() {
    }

    static List<Diagnostic> check(List<Statement> statements) {
        return check(statements, Set.of());
    }

    /**
     * The same, where {@code externals} are symbols of another object supplied as {@code name = value}
     * lines: GNU as reads a bare one as a load from it (it is no constant to GNU), so it is refused.
     */
    static List<Diagnostic> check(List<Statement> statements, Set<String> externals) {
        Set<String> constants = new HashSet<>();
        for (Statement s : statements) {
            if (s.isAssignment()) {
                constants.add(assignedName(s));
            }
        }
        List<Diagnostic> problems = new ArrayList<>();
        for (Statement s : statements) {
            String problem = problem(s, constants, externals);
            if (problem != null) {
                problems.add(new Diagnostic(s.file(), s.line(), problem));
            }
        }
        return problems;
    }

    private static String problem(Statement s, Set<String> constants, Set<String> externals) {
        String head = s.head();
        String operands = s.operands();
        if (SECTION_DIRECTIVES.contains(head)) {
            return "`" + s.text() + "`: section directives trap Keystone's module; assemble each section's code"
                    + " on its own (GNU as builds sectioned objects)";
        }
        if (s.isNumericLabel() || (!head.startsWith(".") && NUMERIC_REFERENCE.matcher(operands).find())) {
            return "numeric local labels (`1:`, `1b`, `1f`) are not supported by Keystone; use a `.L` name"
                    + " (`.Lretry:`), which both assemblers keep local";
        }
        if (!head.startsWith(".") && !s.isAssignment()) {
            Matcher rip = RIP_RELATIVE.matcher(operands);
            while (rip.find()) {
                if (constants.contains(rip.group(1))) {
                    return "`[rip + " + rip.group(1) + "]`: `" + rip.group(1) + "` is a `name = value` constant here,"
                            + " and Keystone (like GNU as for constants) uses it as the displacement itself, not as a"
                            + " target; reference labels defined in the same source, or load the address with"
                            + " `movabs reg, " + rip.group(1) + "`";
                }
            }
        }
        if (head.equals(".include") || head.equals(".incbin")) {
            return "`" + head + "` is not supported by the Keystone backend; paste the code in, or use GNU as";
        }
        if (head.equals("iret")) {
            return "`iret` gets a 0x66 prefix (a 16-bit frame) from Keystone; write `iretd` (what GNU as emits"
                    + " for `iret` here) or `iretq` for a 64-bit frame";
        }
        if (head.equals("sysretq")) {
            return "Keystone does not know `sysretq` (its `sysret` is GNU's `sysretq`, which GNU as calls"
                    + " ambiguous); write `.byte 0x48, 0x0f, 0x07`";
        }
        if (head.equals("retf") && s.bits() == 16) {
            return "`retf` in 16-bit code gets a 0x66 prefix (a 32-bit far return) from Keystone; write `.byte 0xcb`";
        }
        if (s.bits() == 64 && hasAbsoluteMemoryOperand(operands)) {
            return "`" + s.text() + "`: in 64-bit code Keystone encodes a memory operand without a base register"
                    + " RIP-relative, GNU as absolute; put the address in a register (`mov rax, ADDRESS`, then `[rax]`)"
                    + " or write `[rip + label]` when RIP-relative is meant";
        }
        String scaled = scaledNameInMemory(operands);
        if (!head.startsWith(".") && scaled != null) {
            return "`" + scaled + " * ...` inside brackets in `" + s.text() + "`: Keystone drops the scale and takes `"
                    + scaled + "` alone (`[rdi + N * 8]` is `[rdi + N]`); name the product first (`N_OFFSET = N * 8`)"
                    + " and write `[rdi + N_OFFSET]`, the same bytes in both assemblers";
        }
        if (s.bits() != 64 && (head.equals("lgdt") || head.equals("lidt"))) {
            return "`" + head + "` in " + s.bits() + "-bit code gets a 0x66 prefix from Keystone; write it as"
                    + " bytes, e.g. `.byte 0x0f, 0x01, " + (head.equals("lgdt") ? "0x10" : "0x18")
                    + "` for `" + head + " [eax]`";
        }
        var far = FAR_POINTER.matcher(operands);
        if (s.bits() == 32 && (head.equals("ljmp") || head.equals("jmp")) && far.matches()) {
            return "`" + s.text() + "` in 32-bit code becomes a 16-bit far jump in Keystone; write"
                    + " `.byte 0xea; .long " + far.group(2) + "; .word " + far.group(1) + "`";
        }
        if (Pattern.compile("(?i)\\boffset\\b").matcher(operands).find() && !head.startsWith(".")) {
            return "Keystone does not know `offset`; load an address with `lea reg, [symbol]`, or define the"
                    + " value as a constant (`name = value`) and use `name`";
        }
        if (!head.startsWith(".") && !s.isAssignment() && !s.isLabel()) {
            String leading = leadingOperatorExpression(operands);
            if (leading != null) {
                return "`" + leading + "` in `" + s.text() + "`: Keystone reads an immediate expression that does not"
                        + " start with its symbol (`~NAME`, `-NAME`, `1 + NAME`) as a memory operand at that value;"
                        + " give it a name first (`NAME_MASK = " + leading + "`) and use the name";
            }
            if (head.equals("mov") && s.bits() != 16 && SEGMENT_FROM_16_BIT.matcher(operands).matches()) {
                return "`" + s.text() + "`: Keystone gives a segment register load from a 16-bit register a 0x66"
                        + " prefix that GNU as leaves out; write the 32-bit register (`mov ds, eax`), the same"
                        + " instruction in both";
            }
            if (INCOMPLETE.matcher(operands).matches() || count(operands, '[') != count(operands, ']')) {
                return "incomplete operand in `" + s.text() + "` (Keystone would silently assemble a shorter one)";
            }
            if (!BRANCHES.contains(head) && !head.startsWith("j") && !PREFIXES.contains(head)) {
                for (String operand : operands.split(",")) {
                    String bare = operand.strip();
                    if (IDENTIFIER.matcher(bare).matches() && !REGISTERS.contains(bare.toLowerCase(Locale.ROOT))
                            && (!constants.contains(bare) || externals.contains(bare))) {
                        if (externals.contains(bare)) {
                            return "bare symbol `" + bare + "` in `" + s.text() + "`: `" + bare + "` is the kernel's"
                                    + " (not a constant), so GNU as loads from it and Keystone would take its value;"
                                    + " write `[rip + " + bare + "]` for the load, `lea reg, [rip + " + bare + "]` for"
                                    + " the address";
                        }
                        return "bare symbol `" + bare + "` in `" + s.text() + "`: GNU as loads from it, Keystone"
                                + " takes its address; write `[" + bare + "]` for the load, `lea reg, [" + bare
                                + "]` for the address, or define it with `" + bare + " = value`";
                    }
                }
            }
        }
        return null;
    }

    /**
     * The first operand outside brackets that is an expression over a symbol but does not start with the
     * symbol ({@code ~MASK}, {@code -X}, {@code 4 + X}), or null.
     */
    private static String leadingOperatorExpression(String operands) {
        for (String operand : operands.split(",")) {
            String bare = operand.strip();
            if (bare.contains("[") || bare.isEmpty() || bare.contains("'") || bare.contains("\"")) {
                continue;
            }
            // only the first name matters: `F | G`, `F + ~G` are right, `~F`, `1 + F` are loads from F
            Matcher name = NAME_IN_EXPRESSION.matcher(bare);
            if (name.find() && !REGISTERS.contains(name.group().toLowerCase(Locale.ROOT)) && name.start() > 0
                    && !bare.substring(0, name.start()).matches("(?i)(byte|word|dword|qword|short|near|far)\\s+")) {
                return bare;
            }
        }
        return null;
    }

    /** The first name other than a register multiplied inside a {@code [...]} ({@code [rdi + N * 8]}), or null. */
    private static String scaledNameInMemory(String operands) {
        Matcher memory = MEMORY.matcher(operands);
        while (memory.find()) {
            Matcher scaled = SCALED_NAME.matcher(memory.group(1));
            while (scaled.find()) {
                if (!REGISTERS.contains(scaled.group(1).toLowerCase(Locale.ROOT))) {
                    return scaled.group(1);
                }
            }
        }
        return null;
    }

    /** A {@code [...]} naming no register (an absolute address or a bare symbol). */
    private static boolean hasAbsoluteMemoryOperand(String operands) {
        Matcher memory = MEMORY.matcher(operands);
        while (memory.find()) {
            boolean namesRegister = false;
            for (String word : memory.group(1).split("[^\\w]+")) {
                namesRegister |= REGISTERS.contains(word.toLowerCase(Locale.ROOT));
            }
            if (!namesRegister) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code mov ds, ax} respelled {@code mov ds, eax}: the same instruction (8e d8), which GNU as emits for
     * both and Keystone only for the second; other statements unchanged.
     */
    static Statement segmentLoadWidened(Statement s) {
        Matcher load = SEGMENT_FROM_16_BIT.matcher(s.operands());
        if (!s.head().equals("mov") || s.bits() == 16 || !load.matches()) {
            return s;
        }
        String source = load.group(2).toLowerCase(Locale.ROOT);
        String wide = source.startsWith("r") ? source.substring(0, source.length() - 1) + "d" : "e" + source;
        return new Statement(s.file(), s.line(), "mov " + load.group(1) + ", " + wide, s.bits());
    }

    static boolean isRegister(String lowerCaseName) {
        return REGISTERS.contains(lowerCaseName);
    }

    static String assignedName(Statement s) {
        String text = s.text();
        if (text.startsWith(".")) {
            return NAME_END.split(s.operands(), 2)[0];
        }
        return text.substring(0, text.indexOf('=')).strip();
    }

    private static int count(String text, char c) {
        return (int) text.chars().filter(x -> x == c).count();
    }

    private static Set<String> registers() {
        Set<String> names = new HashSet<>();
        for (String r : List.of("ax", "bx", "cx", "dx", "si", "di", "sp", "bp")) {
            names.addAll(List.of(r, "e" + r, "r" + r));
        }
        names.addAll(List.of("al", "bl", "cl", "dl", "ah", "bh", "ch", "dh", "sil", "dil", "spl", "bpl"));
        for (int i = 8; i < 16; i++) {
            names.addAll(List.of("r" + i, "r" + i + "d", "r" + i + "w", "r" + i + "b"));
        }
        for (int i = 0; i < 16; i++) {
            names.addAll(List.of("cr" + i, "dr" + i, "xmm" + i, "ymm" + i, "mm" + (i & 7), "st" + (i & 7)));
        }
        names.addAll(List.of("cs", "ds", "es", "fs", "gs", "ss", "rip", "st"));
        return Set.copyOf(names);
    }
}
