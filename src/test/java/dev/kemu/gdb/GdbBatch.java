package dev.kemu.gdb;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Runs the real gdb in batch mode with a script against a stub; skips the test where gdb is missing. */
final class GdbBatch {
    private GdbBatch() {}

    static void assumeGdbInstalled() throws Exception {
        assumeTrue(new ProcessBuilder("sh", "-c", "command -v gdb").start().waitFor() == 0,
                "gdb is not installed (apt-get install gdb); the real-gdb tests are skipped");
    }

    /** gdb's whole output for {@code script} (one command per line), connected to {@code port}, with {@code elf}'s symbols. */
    static String run(Path dir, Path elf, int port, String script) throws Exception {
        Path file = dir.resolve("session.gdb");
        Files.writeString(file, "set pagination off\nset confirm off\ntarget remote 127.0.0.1:" + port + "\n" + script);
        Process gdb = new ProcessBuilder("gdb", "-nx", "-batch", "-x", file.toString(), elf.toString())
                .redirectErrorStream(true).start();
        if (!gdb.waitFor(120, TimeUnit.SECONDS)) {
            gdb.destroyForcibly();
            throw new AssertionError("gdb did not finish within 120 s: "
                    + new String(gdb.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        }
        return new String(gdb.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
}
