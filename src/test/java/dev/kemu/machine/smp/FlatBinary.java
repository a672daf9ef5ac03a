package dev.kemu.machine.smp;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Assembles a test's code with GNU as (Intel syntax) and links it as a flat binary at a physical origin. */
final class FlatBinary {
    private FlatBinary() {}

    static byte[] assemble(String source, long origin) {
        try {
            Path dir = Files.createTempDirectory("kemu-smp");
            try {
                Path asm = dir.resolve("code.S"), object = dir.resolve("code.o"), flat = dir.resolve("code.bin");
                Files.writeString(asm, ".intel_syntax noprefix\n" + source + "\n");
                run(List.of("as", "--64", "-o", object.toString(), asm.toString()));
                run(List.of("ld", "-m", "elf_x86_64", "-N", "-e", "0", "-Ttext=0x" + Long.toHexString(origin),
                        "--oformat", "binary", "-o", flat.toString(), object.toString()));
                return Files.readAllBytes(flat);
            } finally {
                try (var files = Files.walk(dir)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("assembling a test snippet failed", e);
        }
    }

    private static void run(List<String> command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        try {
            if (process.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed:\n" + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
