package dev.kemu.toolchain.keystone;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One assembly statement as Keystone sees it: a label, a directive or an instruction, with the
 * file and line it came from (Keystone reports no lines, so kemu keeps them) and the code mode
 * ({@code .code16/32/64}) in force there.
 */
record Statement(String file, int line, String text, int bits) {
    // Compiled once: these run over every statement of kemu.inc for every snippet.
    private static final Pattern NUMERIC_LABEL = Pattern.compile("\\d+:");
    private static final Pattern ASSIGNMENT = Pattern.compile("[A-Za-z_.$][\\w.$]*\\s*=.*");
    private static final Pattern CODE_MODE = Pattern.compile("\\.code(16|32|64)");
    private static final Set<String> PREFIXES = Set.of("rep", "repe", "repz", "repne", "repnz", "lock");

    /** {@code name:} alone. */
    boolean isLabel() {
        return text.endsWith(":") && text.indexOf(' ') < 0;
    }

    /** {@code 1:}, a GNU numeric local label. */
    boolean isNumericLabel() {
        return NUMERIC_LABEL.matcher(text).matches();
    }

    /** {@code name = value}, {@code .set}/{@code .equ}: a constant, kept when bisecting. */
    boolean isAssignment() {
        String lower = text.toLowerCase(Locale.ROOT);
        return ASSIGNMENT.matcher(text).matches() || lower.startsWith(".set ") || lower.startsWith(".equ ");
    }

    boolean isCodeMode() {
        return CODE_MODE.matcher(text.toLowerCase(Locale.ROOT)).matches();
    }

    /** The first word, lower case: the mnemonic or directive. */
    String head() {
        int space = text.indexOf(' ');
        return (space < 0 ? text : text.substring(0, space)).toLowerCase(Locale.ROOT);
    }

    /** Everything after the first word. */
    String operands() {
        int space = text.indexOf(' ');
        return space < 0 ? "" : text.substring(space + 1).strip();
    }

    /** How many statements Keystone counts for this one: an instruction prefix counts extra. */
    int keystoneWeight() {
        return PREFIXES.contains(head()) ? 2 : 1;
    }

    String where() {
        return file + ":" + line;
    }
}
