package dev.kemu.machine;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Counts of {@code in} and {@code out} on ports no device claimed: on a PC these read all ones
 * and go nowhere, which a kernel probing for hardware expects but a kernel talking to a device
 * kemu lacks does not; the run summary lists them so the second case is visible. Sparse: a
 * guest touches few such ports.
 */
public final class UnclaimedPorts {
    /** Ports {@code first..last} (inclusive), adjacent ones merged, with their read and write counts summed. */
    public record Range(int first, int last, long reads, long writes) {
        @Override
        public String toString() {
            String ports = first == last ? String.format("0x%x", first) : String.format("0x%x-0x%x", first, last);
            List<String> counts = new ArrayList<>(2);
            if (reads > 0) {
                counts.add(reads + (reads == 1 ? " read" : " reads"));
            }
            if (writes > 0) {
                counts.add(writes + (writes == 1 ? " write" : " writes"));
            }
            return ports + " (" + String.join(", ", counts) + ")";
        }
    }

    /** Per port: [reads, writes]. */
    private final TreeMap<Integer, long[]> counts = new TreeMap<>();

    void read(int port) {
        counts.computeIfAbsent(port & 0xffff, p -> new long[2])[0]++;
    }

    void written(int port) {
        counts.computeIfAbsent(port & 0xffff, p -> new long[2])[1]++;
    }

    public boolean isEmpty() {
        return counts.isEmpty();
    }

    public void clear() {
        counts.clear();
    }

    /** Every unclaimed port touched, in port order, runs of adjacent ports merged. */
    public List<Range> ranges() {
        List<Range> ranges = new ArrayList<>();
        Range open = null;
        for (Map.Entry<Integer, long[]> entry : counts.entrySet()) {
            int port = entry.getKey();
            long[] c = entry.getValue();
            if (open != null && open.last() + 1 == port) {
                open = new Range(open.first(), port, open.reads() + c[0], open.writes() + c[1]);
            } else {
                if (open != null) {
                    ranges.add(open);
                }
                open = new Range(port, port, c[0], c[1]);
            }
        }
        if (open != null) {
            ranges.add(open);
        }
        return List.copyOf(ranges);
    }

    /** The ranges on one line, e.g. {@code 0x80 (3 writes), 0x3e8-0x3ef (8 reads)}; "none" when empty. */
    @Override
    public String toString() {
        List<Range> ranges = ranges();
        return ranges.isEmpty() ? "none" : String.join(", ", ranges.stream().map(Range::toString).toList());
    }
}
