package dev.kemu.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * The library is loaded once per JVM, so each case runs {@code kemu version} in a fresh JVM
 * with a different UNICORN_LIB and checks the message a user would see.
 */
class NativeLibraryErrorsTest {
    @TempDir
    Path dir;

    private record Outcome(int exit, String stdout, String stderr) {}

    private Outcome kemuVersion(Map<String, String> env, String home) throws IOException, InterruptedException {
        return kemu(env, home, "version");
    }

    private Outcome kemu(Map<String, String> env, String home, String... args) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-Dkemu.home=" + home, "-cp", System.getProperty("java.class.path"), KemuCli.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().remove("UNICORN_LIB");
        builder.environment().putAll(env);
        builder.redirectOutput(dir.resolve("out.txt").toFile()).redirectError(dir.resolve("err.txt").toFile());
        Process process = builder.start();
        int exit = process.waitFor();
        return new Outcome(exit, Files.readString(dir.resolve("out.txt")), Files.readString(dir.resolve("err.txt")));
    }

    private static String home() {
        return System.getProperty("kemu.home");
    }

    @Test
    void supportedLibrary_printsItsVersionAndSource() throws Exception {
        Outcome outcome = kemuVersion(Map.of(), home());
        assertEquals(0, outcome.exit(), outcome.stderr());
        assertTrue(outcome.stdout().matches("(?s).*libunicorn 2\\.[1-9]\\.\\d+ from .*"), outcome.stdout());
    }

    @Test
    void unicornLibPointingNowhere_saysSoAndHowToFix() throws Exception {
        Outcome outcome = kemuVersion(Map.of("UNICORN_LIB", "/nonexistent/libunicorn.so.2"), home());
        assertEquals(2, outcome.exit());
        assertTrue(outcome.stderr().contains("UNICORN_LIB=/nonexistent/libunicorn.so.2 does not name a file"),
                outcome.stderr());
        assertTrue(outcome.stderr().contains("make natives"), outcome.stderr());
    }

    @Test
    void libunicorn2_0_isRefusedWithVersionAndRemedy() throws Exception {
        // A stand-in library whose uc_version reports 2.0.1, the version Debian 12 ships.
        Path source = dir.resolve("old.c");
        Files.writeString(source, "unsigned uc_version(unsigned *major, unsigned *minor) {\n"
                + "  if (major) *major = 2; if (minor) *minor = 0; return 0x020001ff; }\n");
        Path library = dir.resolve("libunicorn.so.2");
        Process gcc = new ProcessBuilder("gcc", "-shared", "-fPIC", "-o", library.toString(), source.toString())
                .redirectErrorStream(true).start();
        String gccOutput = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, gcc.waitFor(), gccOutput);

        Outcome outcome = kemuVersion(Map.of("UNICORN_LIB", library.toString()), home());
        assertEquals(2, outcome.exit());
        assertTrue(outcome.stderr().contains("libunicorn 2.0.1 found at " + library + " is too old"), outcome.stderr());
        assertTrue(outcome.stderr().contains("needs Unicorn >= 2.1"), outcome.stderr());
    }

    @Test
    void withoutTheNativeTrampoline_hypercallsFallBackToJava_andEveryServiceStillWorks() throws Exception {
        Outcome outcome = kemu(Map.of("KEMU_HOOKS_LIB", "/nonexistent/libkemu_hooks.so"), home(), "boot");
        // kmain.S writes 0 to the exit port when done: status 0 << 1 | 1 under QEMU's isa-debug-exit convention.
        assertEquals(ExitStatus.guestExit(0), outcome.exit(), outcome.stderr());
        assertTrue(outcome.stdout().contains("mm: protect + vmunmap 0x"), outcome.stdout());
        assertTrue(outcome.stdout().contains("kmain: done, halting"), outcome.stdout());
    }

    @Test
    void noLibraryAnywhere_listsWhereItLooked() throws Exception {
        Process ldconfig = new ProcessBuilder("sh", "-c", "ldconfig -p | grep -q 'libunicorn.so.2 '").start();
        assumeFalse(ldconfig.waitFor() == 0, "this machine has a system libunicorn.so.2");
        Outcome outcome = kemuVersion(Map.of(), dir.toString());
        assertEquals(2, outcome.exit());
        assertTrue(outcome.stderr().contains("libunicorn not found (tried " + dir + "/.native/unicorn/lib/libunicorn.so.2"),
                outcome.stderr());
    }
}
