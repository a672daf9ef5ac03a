package dev.kemu.testing;

import dev.kemu.testing.RestoreExactnessFuzzTest.Program;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Parallel machines with cross-talk checks (issue 11): two machines on two threads run random
 * programs at the same time; after each reset each machine must equal its own pristine image
 * in every byte of RAM and every register, so a write, translation or report that leaked from
 * one machine into the other shows up. {@code -Dkemu.fuzz.programs=N} programs per machine and
 * try, {@code -Dkemu.fuzz.ram=MiB} smaller machines.
 */
class ParallelExactnessFuzzTest {
    private static final int PROGRAMS_PER_TRY = Integer.getInteger("kemu.fuzz.programs", 3);
    private static final long BUDGET = 3000;
    private static final int MACHINES = 2;
    private static final ExecutorService threads = Executors.newFixedThreadPool(MACHINES, r -> {
        Thread thread = new Thread(r, "parallel-fuzz");
        thread.setDaemon(true);
        return thread;
    });
    private static final ThreadLocal<Checked> perThread = new ThreadLocal<>();
    private static final List<Checked> all = new java.util.concurrent.CopyOnWriteArrayList<>();
    private static final java.util.concurrent.atomic.AtomicLong programsRun = new java.util.concurrent.atomic.AtomicLong();

    /** A thread's machine and its pristine image. */
    private record Checked(TestMachine machine, MachineImage pristine) {
        static Checked boot() {
            Integer ramMiB = Integer.getInteger("kemu.fuzz.ram");
            TestMachine machine = ramMiB == null ? new TestMachine() : new TestMachine((long) ramMiB << 20);
            machine.reset();
            return new Checked(machine, new MachineImage(machine.machine()));
        }
    }

    @Property(tries = 5, shrinking = ShrinkingMode.FULL)
    void twoMachinesAtOnce_eachRestoresExactly(@ForAll("batches") List<List<Program>> perMachine) throws Exception {
        List<Future<Optional<String>>> runs = perMachine.stream().map(programs -> threads.submit(() -> runAll(programs))).toList();
        for (Future<Optional<String>> run : runs) {
            Optional<String> failure = run.get(10, TimeUnit.MINUTES);
            if (failure.isPresent()) {
                throw new AssertionError(failure.get());
            }
        }
    }

    private static Optional<String> runAll(List<Program> programs) {
        Checked checked = perThread.get();
        if (checked == null) {
            checked = Checked.boot();
            perThread.set(checked);
            all.add(checked);
        }
        for (Program program : programs) {
            programsRun.incrementAndGet();
            try {
                checked.machine().run(program.source(), Map.of(), BUDGET);
            } catch (RuntimeException escaped) {
                return Optional.of("an exception escaped the run of" + program + "\n" + escaped);
            }
            checked.machine().reset();
            Optional<String> difference = checked.pristine().difference(checked.machine().machine());
            if (difference.isPresent()) {
                return Optional.of("inexact restore (or cross-talk from the other machine) after" + program + "\n"
                        + difference.get());
            }
        }
        return Optional.empty();
    }

    @Provide
    Arbitrary<List<List<Program>>> batches() {
        return RestoreExactnessFuzzTest.program().list().ofSize(PROGRAMS_PER_TRY).list().ofSize(MACHINES);
    }

    @AfterContainer
    static void close() throws Exception {
        System.out.printf("kemu.fuzz: %d programs on %d parallel machines checked for cross-talk%n", programsRun.get(), MACHINES);
        for (Checked checked : all) {
            threads.submit(() -> {
                checked.pristine().close();
                checked.machine().close();
            }).get(1, TimeUnit.MINUTES);
        }
        all.clear();
        threads.shutdown();
    }
}
