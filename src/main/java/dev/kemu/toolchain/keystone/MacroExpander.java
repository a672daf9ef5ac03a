package dev.kemu.toolchain.keystone;

import dev.kemu.toolchain.AssemblyException;
import dev.kemu.toolchain.Diagnostic;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Expands GNU {@code .macro NAME p1, p2=default} ... {@code .endm} before Keystone sees the source:
 * Keystone does run macros, but counts their statements in a way that defeats kemu's check that it
 * assembled every statement, and its errors could not name the line. An expanded statement keeps the
 * invocation's file and line (where GNU as also points, "macro invoked from here"). {@code \p} is
 * replaced by the argument and {@code \()} by nothing; nested definitions and {@code .exitm} are refused.
 */
final class MacroExpander {
    /** One definition: its parameters, their defaults ("" when none) and its body. */
    record Macro(List<String> parameters, List<String> defaults, List<Statement> body) {
    }

    private MacroExpander() {
    }

    static List<Statement> expand(List<Statement> statements) {
        return expand(statements, new HashMap<>());
    }

    /**
     * The same, where {@code macros} (by lower-case name) were defined before these statements; the
     * definitions among them are added to it (so a prefix such as kemu.inc is expanded once, then each
     * snippet with its macros).
     */
    static List<Statement> expand(List<Statement> statements, Map<String, Macro> macros) {
        List<Statement> out = new ArrayList<>();
        for (int i = 0; i < statements.size(); i++) {
            Statement s = statements.get(i);
            if (s.head().equals(".macro")) {
                List<Statement> body = new ArrayList<>();
                int j = i + 1;
                while (j < statements.size() && !statements.get(j).head().equals(".endm")) {
                    String head = statements.get(j).head();
                    if (head.equals(".macro") || head.equals(".exitm")) {
                        throw refused(statements.get(j), "`" + head + "` inside a macro is not supported by kemu's "
                                + "Keystone backend; define macros one after another without it, or use GNU as");
                    }
                    body.add(statements.get(j++));
                }
                if (j == statements.size()) {
                    throw refused(s, "`.macro` without its `.endm`");
                }
                String[] words = s.operands().split("[\\s,]+");
                List<String> parameters = new ArrayList<>();
                List<String> defaults = new ArrayList<>();
                for (int k = 1; k < words.length; k++) {
                    String[] parts = words[k].split("=", 2);
                    parameters.add(parts[0].replace(":req", ""));
                    defaults.add(parts.length > 1 ? parts[1] : "");
                }
                macros.put(words[0].toLowerCase(Locale.ROOT), new Macro(parameters, defaults, body));
                i = j;
            } else if (macros.containsKey(s.head())) {
                out.addAll(invoke(macros.get(s.head()), s));
            } else {
                out.add(s);
            }
        }
        return out;
    }

    private static List<Statement> invoke(Macro macro, Statement call) {
        String operands = call.operands();
        String[] given = operands.isEmpty() ? new String[0]
                : operands.contains(",") ? operands.split(",") : operands.split("\\s+");
        if (given.length > macro.parameters().size()) {
            throw refused(call, "`" + call.text() + "` passes " + given.length + " arguments to a macro of "
                    + macro.parameters().size());
        }
        Map<String, String> values = new HashMap<>();
        for (int k = 0; k < macro.parameters().size(); k++) {
            values.put(macro.parameters().get(k), k < given.length ? given[k].strip() : macro.defaults().get(k));
        }
        List<String> longestFirst = new ArrayList<>(values.keySet());
        longestFirst.sort(Comparator.comparingInt(String::length).reversed());
        List<Statement> out = new ArrayList<>();
        for (Statement line : macro.body()) {
            String text = line.text();
            for (String parameter : longestFirst) {
                text = text.replace("\\" + parameter, values.get(parameter));
            }
            out.add(new Statement(call.file(), call.line(), text.replace("\\()", ""), call.bits()));
        }
        return out;
    }

    private static AssemblyException refused(Statement at, String message) {
        return new AssemblyException("Keystone cannot assemble " + at.file() + " as written",
                List.of(new Diagnostic(at.file(), at.line(), message)));
    }
}
