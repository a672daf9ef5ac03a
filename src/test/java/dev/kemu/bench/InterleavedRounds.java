package dev.kemu.bench;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;

/**
 * The ratios of BENCHMARKS.md from interleaved rounds: in every round each figure's kemu side (a
 * short JMH warm-up iteration, which pays the new trial state's one-time costs such as assembling
 * a snippet, and one measured iteration, in this JVM, which stays warm across rounds) and its
 * reference (the C driver started for that one figure, or a second JMH benchmark) run back to back,
 * the order swapped every round (A B, B A, ...), so drift on a shared machine lands on both sides. Writes
 * {@code interleaved.rounds}: a header of column names, then one line of samples per round, which
 * {@link BenchmarkReport} turns into each side's min / median and the median ratio of the pairs.
 *
 * <p>Usage: {@code InterleavedRounds OUT ROUNDS ITERATION_MS DRIVER DRIVER_ARGS...}
 */
public final class InterleavedRounds {
    /** One side of a pair: a name (a column) and how to take one sample of it. */
    record Side(String column, Sampler sampler) {}

    interface Sampler {
        double sample(boolean warmUp);
    }

    private final int iterationMillis;
    private final List<String> driver;
    private final Map<String, Double> driverSamples = new LinkedHashMap<>();

    private InterleavedRounds(int iterationMillis, List<String> driver) {
        this.iterationMillis = iterationMillis;
        this.driver = driver;
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 5) {
            System.err.println("usage: InterleavedRounds OUT ROUNDS ITERATION_MS DRIVER DRIVER_ARGS...");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        int rounds = Integer.parseInt(args[1]);
        InterleavedRounds bench = new InterleavedRounds(Integer.parseInt(args[2]),
                List.of(Arrays.copyOfRange(args, 3, args.length)));
        List<Side[]> pairs = bench.pairs();
        List<String> columns = new ArrayList<>();
        pairs.forEach(pair -> Arrays.stream(pair).forEach(side -> columns.add(side.column())));
        StringBuilder text = new StringBuilder(String.join(" ", columns)).append('\n');
        for (int round = -1; round < rounds; round++) { // round -1 warms up and is not kept
            List<String> values = new ArrayList<>();
            for (Side[] pair : pairs) {
                boolean swap = round % 2 != 0;
                double first = pair[swap ? 1 : 0].sampler().sample(round < 0);
                double second = pair[swap ? 0 : 1].sampler().sample(round < 0);
                values.add(format(swap ? second : first));
                values.add(format(swap ? first : second));
            }
            if (round >= 0) {
                text.append(String.join(" ", values)).append('\n');
                System.err.printf(Locale.ROOT, "bench: interleaved round %d of %d: %s%n", round + 1, rounds, values);
            }
        }
        Files.writeString(out.resolve("interleaved.rounds"), text);
        System.out.print(text);
    }

    private static String format(double value) {
        return String.format(Locale.ROOT, "%.4f", value);
    }

    /** Every interleaved figure: kemu's side first, the reference second. */
    private List<Side[]> pairs() {
        List<Side[]> pairs = new ArrayList<>();
        pairs.add(pair(jmh("raw_kemu_mips", "EngineBenchmark.rawInstruction", null, ns -> 1000 / ns),
                driver("raw_c_mips", "raw", "raw_mips")));
        pairs.add(pair(jmh("hypercall_kemu_ns", "EngineBenchmark.hypercallRoundTrip", null, ns -> ns),
                driver("hypercall_c_ns", "hypercall", "hypercall_ns")));
        pairs.add(pair(jmh("page_fault_kemu_ns", "KernelBenchmark.demandPagingFault", null, ns -> ns),
                driver("page_fault_c_ns", "page_fault", "page_fault_ns")));
        for (int pages : new int[]{2, 16, 256}) {
            // The C driver restores after all three sizes in one start; the first size runs it.
            Side cow = pages == 2 ? driver("cow_2_us", "cow_restore", "cow_restore_2_us")
                    : new Side("cow_" + pages + "_us", warmUp -> driverSamples.get("cow_restore_" + pages + "_us"));
            pairs.add(pair(jmh("reset_" + pages + "_kemu_us", "KernelBenchmark.reset", String.valueOf(pages),
                    ns -> ns / 1000), cow));
        }
        pairs.add(pair(jmh("boot_kemu_us", "KernelBenchmark.bootToKmain", null, ns -> ns / 1000),
                driver("boot_c_us", "boot", "boot_to_kmain_us")));
        pairs.add(pair(jmh("timer_on_ns", "InterruptBenchmark.computeLoopWithTimer1kHz", null, ns -> ns),
                jmh("timer_off_ns", "InterruptBenchmark.computeLoopInterruptsOff", null, ns -> ns)));
        return pairs;
    }

    private static Side[] pair(Side kemu, Side reference) {
        return new Side[]{kemu, reference};
    }

    /** One JMH iteration of a benchmark in this JVM (no fork), its score converted by {@code unit}. */
    private Side jmh(String column, String benchmark, String pages, DoubleUnaryOperator unit) {
        return new Side(column, warmUp -> {
            ChainedOptionsBuilder options = new OptionsBuilder()
                    .include("dev\\.kemu\\.bench\\." + benchmark.replace(".", "\\.") + "$")
                    .forks(0)
                    .warmupIterations(warmUp ? 2 : 1)
                    .warmupTime(TimeValue.milliseconds(iterationMillis))
                    .measurementIterations(1)
                    .measurementTime(TimeValue.milliseconds(iterationMillis))
                    .verbosity(VerboseMode.SILENT);
            if (pages != null) {
                options.param("pages", pages);
            }
            try {
                RunResult result = new Runner(options.build()).runSingle();
                return unit.applyAsDouble(result.getPrimaryResult().getScore());
            } catch (RunnerException e) {
                throw new IllegalStateException("JMH could not run " + benchmark + ": " + e.getMessage(), e);
            }
        });
    }

    /** One start of the C driver for {@code figure} (its own warm-up, then one repetition). */
    private Side driver(String column, String figure, String line) {
        return new Side(column, warmUp -> {
            List<String> command = new ArrayList<>(driver);
            command.add(figure);
            command.add("1");
            try {
                Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
                String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (process.waitFor() != 0) {
                    throw new IllegalStateException("the C driver failed on figure " + figure + ": " + command);
                }
                for (String row : output.split("\n")) {
                    String[] fields = row.trim().split("\\s+");
                    if (fields.length >= 3) {
                        driverSamples.put(fields[0], Double.parseDouble(fields[2]));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("could not start the C driver " + command.getFirst(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            Double value = driverSamples.get(line);
            if (value == null) {
                throw new IllegalStateException("the C driver printed no '" + line + "' line for figure " + figure);
            }
            return value;
        });
    }
}
