package dev.kemu.boot.stages;

import dev.kemu.boot.KernelSources;
import dev.kemu.testutil.TestKernels;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Small Multiboot kernels of a test's own, assembled and linked with GNU as/ld at 1 MiB (the header first in .text): ELF64
 * images whose entry is 32-bit code (as kemu's own kernel), optionally stripped of every symbol.
 * Each body starts at {@code _start} in 32-bit protected mode, as the Multiboot handoff leaves it.
 */
final class TinyKernels {
    /** The Multiboot 1 header (no flags) and a 32-bit entry; the body follows {@code _start}. */
    private static final String PROLOGUE = """
            .intel_syntax noprefix
            .text
            .code32
            .align 4
            .long 0x1BADB002, 0, -0x1BADB002
            .global _start
            _start:
            """;

    /** Writes 'ok' to the debug console and 0 to the exit port (a 32-bit or 64-bit epilogue assembles the same). */
    static final String SAY_OK_AND_EXIT = """
                mov al, 'o'
                out 0xe9, al
                mov al, 'k'
                out 0xe9, al
                xor eax, eax
                out 0xf4, eax
                hlt
            """;

    private TinyKernels() {
    }

    /** Builds {@code body} into {@code dir/name.elf}; {@code strip} removes the symbol table. */
    static KernelSources.BuiltImages build(Path dir, String name, String body, boolean strip) throws Exception {
        Path source = TestKernels.write(dir, name + ".S", PROLOGUE + body);
        Path object = dir.resolve(name + ".o"), elf = dir.resolve(name + ".elf");
        run(List.of("as", "--64", "-o", object.toString(), source.toString()));
        run(strip ? List.of("ld", "-m", "elf_x86_64", "-s", "-Ttext=0x100000", "-e", "_start", "-o", elf.toString(),
                object.toString())
                : List.of("ld", "-m", "elf_x86_64", "-Ttext=0x100000", "-e", "_start", "-o", elf.toString(),
                object.toString()));
        return new KernelSources.BuiltImages(KernelSources.defaults().build().firmware(), elf);
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        if (process.waitFor() != 0) {
            throw new AssertionError(String.join(" ", command) + " failed:\n" + output);
        }
    }
}
