package dev.kemu.toolchain.keystone;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Splits assembly text into {@link Statement}s the way GNU as reads it: {@code #} starts a comment
 * (Keystone rejects a trailing one), {@code ;} separates statements, and a {@code label:} before an
 * instruction is a statement of its own (Keystone counts it as one). Quotes are respected.
 */
final class SourceSplitter {
    private SourceSplitter() {
    }

    static List<Statement> split(String source, String file) {
        return split(source, file, 64);
    }

    /** The same, in {@code bits}-bit code until a {@code .code16/32/64} says otherwise. */
    static List<Statement> split(String source, String file, int bits) {
        List<Statement> statements = new ArrayList<>();
        String[] lines = source.split("\\R", -1);
        for (int i = 0; i < lines.length; i++) {
            for (String piece : pieces(lines[i])) {
                String text = piece.strip().replaceAll("\\s+", " ");
                while (!text.isEmpty()) {
                    int colon = labelEnd(text);
                    String statement = colon < 0 ? text : text.substring(0, colon + 1);
                    text = colon < 0 ? "" : text.substring(colon + 1).strip();
                    Statement s = new Statement(file, i + 1, statement, bits);
                    if (s.isCodeMode()) {
                        bits = Integer.parseInt(s.head().substring(".code".length()));
                    }
                    statements.add(s);
                }
            }
        }
        return statements;
    }

    /** The pieces of one line between {@code ;}, without its comment. */
    private static List<String> pieces(String line) {
        List<String> pieces = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                current.append(c);
                if (c == '\\' && i + 1 < line.length()) {
                    current.append(line.charAt(++i));
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
                current.append(c);
            } else if (c == '#') {
                break;
            } else if (c == ';') {
                pieces.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        pieces.add(current.toString());
        return pieces;
    }

    /** The index of the colon ending a leading {@code label:}, or -1 (a segment override is no label). */
    private static int labelEnd(String text) {
        int colon = text.indexOf(':');
        if (colon <= 0) {
            return -1;
        }
        String name = text.substring(0, colon);
        if (!name.matches("[A-Za-z_.$][\\w.$]*|\\d+") || isSegmentRegister(name)) {
            return -1;
        }
        return colon;
    }

    private static boolean isSegmentRegister(String name) {
        return List.of("cs", "ds", "es", "fs", "gs", "ss").contains(name.toLowerCase(Locale.ROOT));
    }
}
