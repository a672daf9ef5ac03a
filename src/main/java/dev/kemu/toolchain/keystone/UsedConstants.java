package dev.kemu.toolchain.keystone;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which {@code name = value} constants a run of statements refers to, so the ones nothing refers to (most of
 * kemu.inc for a given snippet) can be dropped: they emit no bytes, and Keystone costs by the statement. The
 * analysis of a fixed prefix (kemu.inc) is made once and combined with each snippet's ({@link #kept}).
 */
final class UsedConstants {
    private static final Pattern IDENTIFIER = Pattern.compile("(?<![\\w.$\\\\])[A-Za-z_][\\w.$]*");
    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");
    private static final UsedConstants NONE = of(List.of());

    private final List<Statement> statements;
    /** Per statement: the constant it assigns, or null when it is no assignment. */
    private final List<String> assigned;
    /** Names the statements other than assignments mention. */
    private final Set<String> mentioned;
    /** Per constant: the names its values mention (one list over all its assignments). */
    private final Map<String, List<String>> dependsOn;

    private UsedConstants(List<Statement> statements, List<String> assigned, Set<String> mentioned,
            Map<String, List<String>> dependsOn) {
        this.statements = statements;
        this.assigned = assigned;
        this.mentioned = mentioned;
        this.dependsOn = dependsOn;
    }

    static UsedConstants of(List<Statement> statements) {
        List<String> assigned = new ArrayList<>(statements.size());
        Set<String> mentioned = new HashSet<>();
        Map<String, List<String>> dependsOn = new HashMap<>();
        for (Statement s : statements) {
            if (s.isAssignment()) {
                String name = QuirkGuards.assignedName(s);
                assigned.add(name);
                dependsOn.computeIfAbsent(name, k -> new ArrayList<>()).addAll(namesIn(valueOf(s)));
            } else {
                assigned.add(null);
                mentioned.addAll(namesIn(s.text()));
            }
        }
        return new UsedConstants(List.copyOf(statements), assigned, mentioned, dependsOn);
    }

    /** {@code statements} without the constants nothing in them refers to. */
    static List<Statement> kept(List<Statement> statements) {
        return kept(NONE, of(statements));
    }

    /** {@code prefix}'s statements then {@code rest}'s, without the constants nothing in either refers to. */
    static List<Statement> kept(UsedConstants prefix, UsedConstants rest) {
        Set<String> used = new HashSet<>();
        List<String> work = new ArrayList<>(prefix.mentioned);
        work.addAll(rest.mentioned);
        while (!work.isEmpty()) {
            String name = work.removeLast();
            if (used.add(name)) {
                work.addAll(prefix.dependsOn.getOrDefault(name, List.of()));
                work.addAll(rest.dependsOn.getOrDefault(name, List.of()));
            }
        }
        List<Statement> kept = new ArrayList<>();
        prefix.keepInto(kept, used);
        rest.keepInto(kept, used);
        return kept;
    }

    private void keepInto(List<Statement> kept, Set<String> used) {
        for (int i = 0; i < statements.size(); i++) {
            if (assigned.get(i) == null || used.contains(assigned.get(i))) {
                kept.add(statements.get(i));
            }
        }
    }

    private static List<String> namesIn(String text) {
        List<String> names = new ArrayList<>();
        Matcher matcher = IDENTIFIER.matcher(STRING.matcher(text).replaceAll("\"\""));
        while (matcher.find()) {
            names.add(matcher.group());
        }
        return names;
    }

    private static String valueOf(Statement assignment) {
        String text = assignment.text();
        return text.startsWith(".") ? text.substring(text.indexOf(',') + 1) : text.substring(text.indexOf('=') + 1);
    }
}
