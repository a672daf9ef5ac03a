package dev.kemu.testutil;

import dev.kemu.boot.KernelSources;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Kernel variants for tests: the repository's kernel with one source replaced by inline assembly. */
public final class TestKernels {
    private TestKernels() {}

    public static KernelSources.BuiltImages defaultKernel() {
        return KernelSources.defaults().build();
    }

    /** The default kernel with {@code kmain.S} replaced by {@code body} (Intel syntax, 64-bit, .text). */
    public static KernelSources.BuiltImages withKmain(Path dir, String body) {
        return KernelSources.defaults().with("kmain.S", write(dir, "kmain.S", """
                .intel_syntax noprefix
                .include "kemu.inc"
                .section .text, "ax"
                .code64
                .global kmain
                kmain:
                """ + body)).build();
    }

    /**
     * kemu's kernel with a kmain that calls HC_MM_INIT and then runs {@code body}, whose AL goes to the exit port;
     * 0x7f there means HC_MM_INIT failed. The shape of the crafted memory bugs the debug-mode tests run.
     */
    public static Path withMemoryServices(Path dir, String body) {
        return withKmain(dir, """
                    movabs rsi, offset kernel_phys_start
                    movabs rdx, offset kernel_phys_end
                    HYPERCALL HC_MM_INIT
                    test rax, rax
                    jnz 2f
                """ + body + """
                    out EXIT_PORT, al
                1:  hlt
                    jmp 1b
                2:  mov al, 0x7f
                    out EXIT_PORT, al
                    jmp 1b
                """).kernel();
    }

    public static Path write(Path dir, String name, String text) {
        try {
            Path file = dir.resolve(name);
            Files.writeString(file, text);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
