package dev.kemu.debug;

import java.util.ArrayList;
import java.util.List;

/**
 * The fault reports of one run, at most {@link #MAX_REPORTS}: a guest faulting in a loop must
 * not exhaust the host's memory, so faults past the cap are only counted.
 */
public final class FaultLog {
    /** Reports kept per run. */
    public static final int MAX_REPORTS = 1000;

    private final List<FaultReport> reports = new ArrayList<>();
    private long dropped;

    /** Whether another report would be kept; callers skip building reports that would be dropped. */
    public boolean hasRoom() {
        return reports.size() < MAX_REPORTS;
    }

    /** Keeps {@code report}, or counts it as dropped when the log is full or no report was built (null). */
    public void keep(FaultReport report) {
        if (report != null && hasRoom()) {
            reports.add(report);
        } else {
            dropped++;
        }
    }

    public List<FaultReport> reports() {
        return List.copyOf(reports);
    }

    /** Faults beyond {@link #MAX_REPORTS} that were handled but whose reports were not kept. */
    public long dropped() {
        return dropped;
    }

    public void clear() {
        reports.clear();
        dropped = 0;
    }
}
