package dev.kemu.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Whole processes timed in interleaved rounds: every round runs each command once, starting one
 * further along each round (A B C, B C A, ...), so that drift on a shared machine lands on every
 * command alike. Each run must end with its expected exit status and print its expected text, or
 * it is run once more (the failure printed); a second failure stops the benchmark naming the
 * command: a figure of a run that went wrong is no figure. Writes
 * {@code FILE}: a header of the names, then one line of wall times (ms) per round, for
 * {@link BenchmarkReport}.
 *
 * <p>Usage: {@code AlternatingProcesses FILE ROUNDS WARMUPS NAME|STATUS|EXPECTED|COMMAND...}; a
 * COMMAND runs under {@code bash -c}, EXPECTED may be empty.
 */
public final class AlternatingProcesses {
    record Command(String name, int status, String expected, String shell) {
        static Command parse(String spec) {
            String[] parts = spec.split("\\|", 4);
            if (parts.length != 4 || !parts[1].matches("[0-9]+")) {
                throw new IllegalArgumentException("not NAME|STATUS|EXPECTED|COMMAND: " + spec);
            }
            return new Command(parts[0], Integer.parseInt(parts[1]), parts[2], parts[3]);
        }

        /** Runs the command once; returns its wall time in ms. */
        double run() {
            try {
                long start = System.nanoTime();
                Process process = new ProcessBuilder("bash", "-c", shell).redirectErrorStream(true).start();
                String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                int exit = process.waitFor();
                double millis = (System.nanoTime() - start) / 1e6;
                if (exit != status || !output.contains(expected)) {
                    throw new IllegalStateException(String.format(Locale.ROOT,
                            "%s: exit status %d (expected %d)%s; command: %s%n%s", name, exit, status,
                            output.contains(expected) ? "" : ", output lacks '" + expected + "'", shell,
                            output.length() > 4000 ? output.substring(output.length() - 4000) : output));
                }
                return millis;
            } catch (IOException e) {
                throw new UncheckedIOException("could not start bash for " + name, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    private AlternatingProcesses() {}

    /**
     * One run, and a second one when the first went wrong: the failure is printed (it is a finding
     * about kemu or the reference, not noise), and a second failure stops the bench.
     */
    private static double runOrRetry(Command command) {
        try {
            return command.run();
        } catch (IllegalStateException first) {
            System.err.println("bench: RUN FAILED, retrying once: " + first.getMessage());
            return command.run();
        }
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 4) {
            System.err.println("usage: AlternatingProcesses FILE ROUNDS WARMUPS NAME|STATUS|EXPECTED|COMMAND...");
            System.exit(2);
        }
        Path file = Path.of(args[0]);
        int rounds = Integer.parseInt(args[1]), warmups = Integer.parseInt(args[2]);
        List<Command> commands = new ArrayList<>();
        for (int i = 3; i < args.length; i++) {
            commands.add(Command.parse(args[i]));
        }
        StringBuilder text = new StringBuilder(String.join(" ", commands.stream().map(Command::name).toList()));
        text.append('\n');
        for (int round = -warmups; round < rounds; round++) {
            double[] times = new double[commands.size()];
            int first = Math.floorMod(round, commands.size());
            for (int k = 0; k < commands.size(); k++) {
                int index = (first + k) % commands.size();
                times[index] = runOrRetry(commands.get(index));
            }
            if (round >= 0) {
                List<String> values = new ArrayList<>();
                for (double t : times) {
                    values.add(String.format(Locale.ROOT, "%.1f", t));
                }
                text.append(String.join(" ", values)).append('\n');
                System.err.printf(Locale.ROOT, "bench: %s round %d of %d: %s ms%n", file.getFileName(), round + 1,
                        rounds, values);
            }
        }
        Files.writeString(file, text);
    }
}
