package dev.kemu.cli.daemon;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real daemon for a test: its own JVM on a socket in a temporary directory, with a jar of its own to make stale,
 * the tree's client (.native/client/kemu-client), and a stand-in launcher for the requests it sends back (the plain
 * JVM, as ./kemu would run it). {@link #close} stops it, and kills it if it does not stop.
 */
final class DaemonProcess implements AutoCloseable {
    static final Path HOME = Path.of(System.getProperty("kemu.home", ".")).toAbsolutePath();
    static final Path CLIENT = HOME.resolve(".native/client/kemu-client");

    final Path socket;
    final Path jar;
    final Path launcher;
    private final Process process;

    record Result(int status, String stdout, String stderr) {
        /** The output without the run's own wall time, which differs from run to run. */
        Result comparable() {
            return new Result(status, stdout.replaceAll("[0-9]+\\.[0-9]{2} ms", "N ms"), stderr);
        }
    }

    DaemonProcess(Path directory) throws Exception {
        assumeTrue(Files.isExecutable(CLIENT), CLIENT + " is missing: scripts/natives.sh builds it with gcc");
        socket = directory.resolve("d.sock");
        jar = Files.writeString(directory.resolve("kemu-cli.jar"), "stand-in: only its time matters");
        launcher = directory.resolve("plain-kemu");
        Files.writeString(launcher, "#!/bin/sh\nexec " + String.join(" ", quoted(plainJvm(List.of()))) + " \"$@\"\n");
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwx------"));
        List<String> command = new ArrayList<>(jvm());
        command.addAll(List.of("-Dkemu.daemon.jar=" + jar, "-Dkemu.daemon.warmUpBoots=1",
                "-Dkemu.daemon.idleMinutes=1", // a test JVM that dies leaves no daemon for long
                "dev.kemu.cli.daemon.KemuDaemon", socket.toString()));
        process = new ProcessBuilder(command).directory(HOME.toFile()).redirectErrorStream(true)
                .redirectOutput(directory.resolve("daemon.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(socket)) {
            assertTrue(process.isAlive(), () -> "the daemon ended while starting: " + log(directory));
            assertTrue(System.nanoTime() < deadline, () -> "the daemon did not start in 60 s: " + log(directory));
            Thread.sleep(50);
        }
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    boolean endsWithin(long seconds) throws InterruptedException {
        return process.waitFor(seconds, TimeUnit.SECONDS);
    }

    /** {@code ./kemu ARGS} through the client, in {@code directory}. */
    Result throughDaemon(Path directory, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(CLIENT.toString(), socket.toString(), launcher.toString()));
        command.addAll(List.of(args));
        return run(command, directory);
    }

    /** {@code ./kemu ARGS} in a JVM of its own, in {@code directory}. */
    static Result plain(Path directory, String... args) throws Exception {
        return run(plainJvm(List.of(args)), directory);
    }

    Process startThroughDaemon(Path directory, Path stdout, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(CLIENT.toString(), socket.toString(), launcher.toString()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).directory(directory.toFile()).redirectOutput(stdout.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    Result control(String kind) throws Exception {
        return run(List.of(CLIENT.toString(), "--" + kind, socket.toString()), HOME);
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            control("stop");
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    private static Result run(List<String> command, Path directory) throws Exception {
        Path out = Files.createTempFile("kemu-daemon-test", ".out"), err = Files.createTempFile("kemu-daemon-test", ".err");
        try {
            Process process = new ProcessBuilder(command).directory(directory.toFile()).redirectOutput(out.toFile())
                    .redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .start();
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "did not finish in 60 s: " + command);
            return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static List<String> jvm() {
        return List.of(ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java"),
                "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-Dkemu.home=" + HOME, "-cp", System.getProperty("java.class.path"));
    }

    private static List<String> plainJvm(List<String> args) {
        List<String> command = new ArrayList<>(jvm());
        command.add("dev.kemu.cli.KemuCli");
        command.addAll(args);
        return command;
    }

    private static List<String> quoted(List<String> words) {
        return words.stream().map(w -> "'" + w.replace("'", "'\\''") + "'").toList();
    }

    private static String log(Path directory) {
        try {
            return Files.readString(directory.resolve("daemon.log"));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** A Multiboot kernel of a few instructions, assembled with GNU as and ld into {@code directory}. */
    static Path kernel(Path directory, String name, String code) throws Exception {
        Path source = Files.writeString(directory.resolve(name + ".S"), """
                .section .multiboot
                .align 4
                .long 0x1BADB002, 0, -0x1BADB002
                .text
                .globl _start
                _start:
                """ + code + "\n");
        Path object = directory.resolve(name + ".o"), elf = directory.resolve(name + ".elf");
        for (List<String> step : List.of(List.of("as", "--32", "-o", object.toString(), source.toString()),
                List.of("ld", "-m", "elf_i386", "-Ttext=0x100000", "-e", "_start", "-o", elf.toString(), object.toString()))) {
            Process tool = new ProcessBuilder(step).redirectErrorStream(true).start();
            String output = new String(tool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(tool.waitFor() == 0, step + ": " + output);
        }
        return elf;
    }
}
