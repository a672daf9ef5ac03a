package dev.kemu.toolchain.keystone;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Respells GNU local labels as names Keystone takes, without changing what they mean: a {@code .L} name
 * (Keystone refuses one inside brackets, {@code [rip + .Lx]}) becomes {@code kemu.Lx}, and each definition
 * of a numeric label {@code N:} becomes a name of its own, {@code kemu.N.k}, with {@code Nb} naming the
 * latest definition before the reference and {@code Nf} the next one after it, as GNU as resolves them.
 * Names starting with {@code kemu.} are kemu's own here (a source defining one gets an error from Keystone
 * about a redefined symbol, never other bytes), and they are left out of symbol tables, as GNU leaves out
 * local labels.
 */
final class LocalLabels {
    static final String PREFIX = "kemu.";
    private static final Pattern DOT_L = Pattern.compile("(?<![\\w.$])\\.L([\\w$][\\w.$]*)");
    private static final Pattern NUMERIC_REFERENCE = Pattern.compile("(?<![\\w.$])(\\d+)([bf])\\b");

    private LocalLabels() {
    }

    /** The statements with every local label respelled; a reference to no definition is left for Keystone to refuse. */
    static List<Statement> respell(List<Statement> statements) {
        Map<String, Integer> definitions = new HashMap<>();
        List<Integer> instance = new ArrayList<>(); // per statement: which definition of its numeric label (-1: none)
        for (Statement s : statements) {
            if (s.isNumericLabel()) {
                String n = number(s);
                int k = definitions.merge(n, 1, Integer::sum);
                instance.add(k);
            } else {
                instance.add(-1);
            }
        }
        Map<String, Integer> seen = new HashMap<>();
        List<Statement> out = new ArrayList<>(statements.size());
        for (int i = 0; i < statements.size(); i++) {
            Statement s = statements.get(i);
            String text = DOT_L.matcher(s.text()).replaceAll(PREFIX + "L$1");
            if (s.isNumericLabel()) {
                String n = number(s);
                seen.put(n, instance.get(i));
                text = PREFIX + n + "." + instance.get(i) + ":";
            } else if (!s.head().startsWith(".")) {
                Matcher reference = NUMERIC_REFERENCE.matcher(text);
                StringBuilder respelled = new StringBuilder();
                while (reference.find()) {
                    String n = reference.group(1);
                    int latest = seen.getOrDefault(n, 0);
                    int target = reference.group(2).equals("b") ? latest : latest + 1;
                    boolean exists = target >= 1 && target <= definitions.getOrDefault(n, 0);
                    reference.appendReplacement(respelled, Matcher.quoteReplacement(
                            exists ? PREFIX + n + "." + target : reference.group()));
                }
                reference.appendTail(respelled);
                text = respelled.toString();
            }
            out.add(new Statement(s.file(), s.line(), text, s.bits()));
        }
        return out;
    }

    /**
     * Whether {@code statements} define and mention no local label: then respelling them changes nothing,
     * and respelling what follows them does not depend on them.
     */
    static boolean noneIn(List<Statement> statements) {
        for (Statement s : statements) {
            if (s.isNumericLabel() || DOT_L.matcher(s.text()).find() || NUMERIC_REFERENCE.matcher(s.text()).find()) {
                return false;
            }
        }
        return true;
    }

    private static String number(Statement label) {
        return label.text().substring(0, label.text().length() - 1);
    }
}
