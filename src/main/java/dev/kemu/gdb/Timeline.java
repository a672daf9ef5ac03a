package dev.kemu.gdb;

import dev.kemu.machine.Machine;
import dev.kemu.machine.Snapshot;

import java.util.Map;
import java.util.TreeMap;

/**
 * The checkpoints of a debugging session, by instruction time (instructions executed since the
 * session began). kemu's runs are deterministic and a snapshot costs microseconds to restore, so
 * any earlier moment is reached by restoring the last checkpoint before it and executing the
 * rest again. A checkpoint is taken every {@link #interval} instructions; past
 * {@link #MAX_CHECKPOINTS}, every other one is dropped and the interval doubles.
 */
final class Timeline implements AutoCloseable {
    static final long FIRST_INTERVAL = 100_000;
    static final int MAX_CHECKPOINTS = 128;

    private final Machine machine;
    private final TreeMap<Long, Snapshot> checkpoints = new TreeMap<>();
    private long interval = FIRST_INTERVAL;

    Timeline(Machine machine, long now) {
        this.machine = machine;
        checkpoints.put(now, Snapshot.take(machine));
    }

    /** The earliest moment reverse execution can reach. */
    long origin() {
        return checkpoints.firstKey();
    }

    /** The next time a forward run should pause to take a checkpoint. */
    long nextCheckpointAfter(long now) {
        return (now / interval + 1) * interval;
    }

    /** Takes a checkpoint at {@code now} if it is on the grid and not taken yet. */
    void reached(long now) {
        if (now % interval != 0 || checkpoints.containsKey(now)) {
            return;
        }
        checkpoints.put(now, Snapshot.take(machine));
        if (checkpoints.size() > MAX_CHECKPOINTS) {
            thin();
        }
    }

    private void thin() {
        interval *= 2;
        checkpoints.entrySet().removeIf(entry -> {
            boolean drop = entry.getKey() != origin() && entry.getKey() % interval != 0;
            if (drop) {
                entry.getValue().close();
            }
            return drop;
        });
    }

    /** Restores the last checkpoint at or before {@code time}; returns its time. */
    long restoreAtOrBefore(long time) {
        Map.Entry<Long, Snapshot> checkpoint = checkpoints.floorEntry(Math.max(time, origin()));
        checkpoint.getValue().restore();
        return checkpoint.getKey();
    }

    /** The checkpoint times before {@code time}, latest first. */
    Iterable<Long> before(long time) {
        return checkpoints.headMap(time, false).descendingKeySet();
    }

    /** The debugger changed the guest: history can no longer be replayed, it starts again at {@code now}. */
    void restartAt(long now) {
        close();
        interval = FIRST_INTERVAL;
        checkpoints.put(now, Snapshot.take(machine));
    }

    @Override
    public void close() {
        checkpoints.values().forEach(Snapshot::close);
        checkpoints.clear();
    }
}
