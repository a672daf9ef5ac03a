package dev.kemu.bench;

import dev.kemu.machine.StopReason;
import dev.kemu.testing.GuestRun;
import dev.kemu.testing.TestMachine;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

import java.util.Map;

/**
 * A JMH state holding one booted kemu kernel ({@link TestMachine}) per trial, for benchmarks whose operation is
 * a snippet of guest code: {@link #run} fails loudly unless the snippet ran to its end, so a broken guest can
 * never be timed as a fast one.
 */
public abstract class GuestCodeBenchmark {
    private TestMachine machine;

    @Setup(Level.Trial)
    public void setUp() {
        machine = new TestMachine(0);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        machine.close();
    }

    /** Runs {@code code} with no instruction budget; it must reach its end. */
    protected GuestRun run(String code) {
        GuestRun run = machine.run(code, Map.of(), 0);
        if (run.stopReason() != StopReason.REACHED_END) {
            throw new IllegalStateException(run.describe());
        }
        return run;
    }
}
