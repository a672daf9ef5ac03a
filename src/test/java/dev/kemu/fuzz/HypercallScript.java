package dev.kemu.fuzz;

import dev.kemu.kernel.GuestAbi;
import dev.kemu.machine.PageTableEntry;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * A hypercall sequence as text, the corpus form of a hostile guest's calls:
 *
 * <pre>
 * # what the sequence shows
 * HC_VMA_RESERVE(4096, W)                 # one call per line; numbers, flag and errno names
 * HC_CACHE_FREE($vm_area_cache, $vma_list_head) -> -EPERM
 * HC_KFREE($r1 + 8) -> error              # $rN: the result of the Nth call
 * </pre>
 *
 * An argument is {@code |}-joined terms, each a number (decimal or {@code 0x} hex, may be
 * negative), a flag ({@code W U G NX PWT PCD MAP_HUGE ALLOC_ZERO}), an errno ({@code -EINVAL}),
 * {@code $rN} or a named kernel value, with an optional {@code + N} or {@code - N}. An
 * expectation after {@code ->} is a value, {@code !value} (anything else), {@code ok} (not an
 * errno) or {@code error}.
 */
public record HypercallScript(String name, List<Step> steps) {
    /** Makes one hypercall and returns RAX. */
    public interface Caller {
        long call(int number, long... arguments);
    }

    public record Step(int line, int number, List<String> arguments, Optional<String> expected) {}

    private static final Map<String, Long> WORDS = Map.ofEntries(
            Map.entry("W", PageTableEntry.WRITABLE), Map.entry("U", PageTableEntry.USER),
            Map.entry("G", PageTableEntry.GLOBAL), Map.entry("NX", PageTableEntry.NO_EXECUTE),
            Map.entry("PWT", 1L << 3), Map.entry("PCD", 1L << 4), Map.entry("MAP_HUGE", GuestAbi.MAP_HUGE),
            Map.entry("ALLOC_ZERO", GuestAbi.ALLOC_ZERO), Map.entry("EPERM", -GuestAbi.EPERM),
            Map.entry("ENOMEM", -GuestAbi.ENOMEM), Map.entry("EFAULT", -GuestAbi.EFAULT), Map.entry("EBUSY", -GuestAbi.EBUSY),
            Map.entry("EEXIST", -GuestAbi.EEXIST), Map.entry("ENODEV", -GuestAbi.ENODEV),
            Map.entry("EINVAL", -GuestAbi.EINVAL), Map.entry("ENOSYS", -GuestAbi.ENOSYS));

    public static HypercallScript parse(String name, String text) {
        List<Step> steps = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].replaceFirst("#.*", "").strip();
            if (line.isEmpty()) {
                continue;
            }
            int open = line.indexOf('('), close = line.lastIndexOf(')');
            if (open < 0 || close < open) {
                throw new IllegalArgumentException(name + ":" + (i + 1) + ": expected HC_NAME(arguments), got \"" + line + "\"");
            }
            String arrow = line.substring(close + 1).strip();
            if (!arrow.isEmpty() && !arrow.startsWith("->")) {
                throw new IllegalArgumentException(name + ":" + (i + 1) + ": after the call only \"-> expected\" may follow, got \""
                        + arrow + "\"");
            }
            String inside = line.substring(open + 1, close).strip();
            List<String> arguments = inside.isEmpty() ? List.of()
                    : List.of(inside.split(",")).stream().map(String::strip).toList();
            if (arguments.size() > 6) {
                throw new IllegalArgumentException(name + ":" + (i + 1) + ": at most six arguments, got " + arguments.size());
            }
            steps.add(new Step(i + 1, number(name, i + 1, line.substring(0, open).strip()), arguments,
                    arrow.isEmpty() ? Optional.empty() : Optional.of(arrow.substring(2).strip())));
        }
        return new HypercallScript(name, List.copyOf(steps));
    }

    private static int number(String file, int line, String service) {
        for (int n = 0; n < 64; n++) {
            if (GuestAbi.hypercallName(n).equals(service)) {
                return n;
            }
        }
        if (service.matches("HC_-?\\d+")) {
            return Integer.parseInt(service.substring(3));
        }
        throw new IllegalArgumentException(file + ":" + line + ": unknown hypercall \"" + service
                + "\": use a name from kemu.inc (HC_KMALLOC) or HC_<number>");
    }

    /**
     * Makes every call in order; {@code named} gives {@code $name} values (read when used).
     * A result that differs from its expectation fails with the file, line and call.
     */
    public List<Long> replay(Caller caller, Map<String, LongSupplier> named) {
        List<Long> results = new ArrayList<>();
        for (Step step : steps) {
            long[] arguments = step.arguments().stream().mapToLong(a -> value(step, a, results, named)).toArray();
            long result = caller.call(step.number(), arguments);
            results.add(result);
            step.expected().ifPresent(expected -> check(step, expected, result, results, named));
        }
        return results;
    }

    private void check(Step step, String expected, long result, List<Long> results, Map<String, LongSupplier> named) {
        boolean error = result >= -4095 && result < 0;
        boolean holds = switch (expected) {
            case "ok" -> !error;
            case "error" -> error;
            default -> expected.startsWith("!") ? result != value(step, expected.substring(1).strip(), results, named)
                    : result == value(step, expected, results, named);
        };
        if (!holds) {
            throw new AssertionError(String.format("%s:%d: %s%s returned %d (0x%x), expected %s", name, step.line(),
                    GuestAbi.hypercallName(step.number()), step.arguments(), result, result, expected));
        }
    }

    private long value(Step step, String text, List<Long> results, Map<String, LongSupplier> named) {
        long value = 0;
        for (String term : text.split("\\|")) {
            value |= term(step, term.strip(), results, named);
        }
        return value;
    }

    private long term(Step step, String term, List<Long> results, Map<String, LongSupplier> named) {
        String[] sum = term.split("(?=[+])|(?<=\\S)\\s*(?=-\\s*\\d)", 2);
        long offset = sum.length == 2 ? Long.decode(sum[1].replace(" ", "").replace("+", "")) : 0;
        String base = sum[0].strip();
        try {
            if (base.startsWith("$r") && base.substring(2).matches("\\d+")) {
                int index = Integer.parseInt(base.substring(2));
                if (index < 1 || index > results.size()) {
                    throw new IllegalArgumentException("$r" + index + " names no earlier call");
                }
                return results.get(index - 1) + offset;
            }
            if (base.startsWith("$")) {
                LongSupplier supplier = named.get(base.substring(1));
                if (supplier == null) {
                    throw new IllegalArgumentException("unknown name " + base + "; known: " + named.keySet());
                }
                return supplier.getAsLong() + offset;
            }
            boolean negative = base.startsWith("-");
            String magnitude = negative ? base.substring(1) : base;
            Long word = WORDS.get(magnitude);
            long parsed = word != null ? word : magnitude.startsWith("0x") ? Long.parseUnsignedLong(magnitude.substring(2), 16)
                    : Long.parseLong(magnitude);
            return (negative ? -parsed : parsed) + offset;
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(String.format("%s:%d: cannot read the argument \"%s\": %s", name, step.line(),
                    term, e.getMessage()), e);
        }
    }

    /** A driver transcript ({@code HC_X(0x1, 0x2) = 0x10} per line) as a script, the results kept as comments. */
    public static String fromTranscript(String header, String transcript) {
        StringBuilder text = new StringBuilder();
        header.lines().forEach(line -> text.append("# ").append(line).append('\n'));
        transcript.lines().forEach(line -> text.append(line.replaceFirst(" = ", "    # returned ")).append('\n'));
        return text.toString();
    }
}
