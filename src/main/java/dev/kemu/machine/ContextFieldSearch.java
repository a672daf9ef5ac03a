package dev.kemu.machine;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Finds the one 4-byte field of Unicorn's saved CPU context that holds known values: a pure
 * function over context bytes, so that its refusal to guess can be tested without an engine.
 *
 * <p>A calibration round is a list of observations (a saved context and the value the field
 * must hold in it). The first round names the candidate offsets; while more than one remains,
 * the next round, made with different values, must hold at each survivor too. Several
 * candidates after the last round is an error, never "take the first": a wrong offset would
 * corrupt the CPU state on every fault.
 */
final class ContextFieldSearch {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;

    /** One saved context and the value the sought field holds in it. */
    record Observation(byte[] context, int expected) {}

    private ContextFieldSearch() {}

    /**
     * The single offset that holds every round's values; later rounds run only while the
     * earlier ones leave more than one candidate.
     *
     * @param field what is sought, for messages (e.g. "old_exception")
     * @throws IllegalStateException naming the field, the values and the candidates when no
     *         offset or more than one remains
     */
    static long unique(String field, List<Supplier<List<Observation>>> rounds) {
        if (rounds.isEmpty()) {
            throw new IllegalArgumentException("no calibration round for " + field);
        }
        List<Long> candidates = null;
        List<String> tried = new ArrayList<>();
        for (Supplier<List<Observation>> round : rounds) {
            List<Observation> observations = round.get();
            tried.add(describe(observations));
            candidates = candidates == null ? offsetsHolding(observations) : keepHolding(candidates, observations);
            if (candidates.size() <= 1) {
                break;
            }
        }
        if (candidates.isEmpty()) {
            throw new IllegalStateException("cannot calibrate " + field + " in this libunicorn: no 4-byte field of the "
                    + "saved CPU context holds " + String.join(", then ", tried)
                    + "; kemu needs Unicorn >= 2.1 (2.1.4 preferred)");
        }
        if (candidates.size() > 1) {
            throw new IllegalStateException("cannot calibrate " + field + " in this libunicorn: offsets "
                    + hex(candidates) + " all hold " + String.join(", then ", tried)
                    + "; refusing to guess, since patching the wrong field corrupts the CPU state");
        }
        return candidates.get(0);
    }

    /** Every 4-aligned offset at which each observation's context holds its expected value. */
    static List<Long> offsetsHolding(List<Observation> observations) {
        int length = observations.stream().mapToInt(o -> o.context().length).min().orElse(0);
        List<Long> all = new ArrayList<>();
        for (long at = 0; at + 4 <= length; at += 4) {
            all.add(at);
        }
        return keepHolding(all, observations);
    }

    private static List<Long> keepHolding(List<Long> candidates, List<Observation> observations) {
        List<Long> kept = new ArrayList<>();
        for (long at : candidates) {
            boolean holds = true;
            for (Observation o : observations) {
                holds &= at + 4 <= o.context().length && MemorySegment.ofArray(o.context()).get(I32, at) == o.expected();
            }
            if (holds) {
                kept.add(at);
            }
        }
        return kept;
    }

    private static String describe(List<Observation> observations) {
        return observations.stream().map(o -> o.expected() < 0 ? Integer.toString(o.expected())
                : "0x" + Integer.toHexString(o.expected())).collect(Collectors.joining(", ", "(", ")"));
    }

    private static String hex(List<Long> offsets) {
        return offsets.stream().map(o -> "0x" + Long.toHexString(o)).collect(Collectors.joining(", ", "[", "]"));
    }
}
