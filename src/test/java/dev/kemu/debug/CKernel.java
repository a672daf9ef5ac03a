package dev.kemu.debug;

import dev.kemu.boot.KernelSources;
import dev.kemu.toolchain.GnuAssembler;
import dev.kemu.toolchain.GnuLinker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * kemu's kernel with {@code kmain.S} replaced by a C file compiled with {@code gcc -g}: its own C
 * code with DWARF line information, which never calls kemu's memory services (no HC_MM_INIT).
 */
public record CKernel(Path source, KernelSources.BuiltImages images) {
    /** kmain calls read_unmapped, which reads an unmapped address on the line marked "faults here". */
    public static final String FAULTING_SOURCE = """
            /* A kernel of its own: it never calls kemu's memory services. */
            static volatile long *const unmapped = (volatile long *)0x400000000000UL;

            long read_unmapped(long bias)
            {
                long value = bias * 3;
                value += *unmapped; /* faults here */
                return value;
            }

            void kmain(void)
            {
                read_unmapped(7);
            }
            """;

    /** Compiles {@code cSource} (it defines {@code kmain}) with {@code gcc -g -O<optimisation>} and links the kernel. */
    public static CKernel build(Path dir, String name, String cSource, int optimisation) {
        try {
            Path source = dir.resolve(name);
            Files.writeString(source, cSource);
            Path objects = Files.createDirectories(dir.resolve(name + ".objs"));
            KernelSources kernel = KernelSources.defaults();
            List<Path> linked = new ArrayList<>();
            for (Path asm : kernel.kernelFiles()) {
                if (!asm.getFileName().toString().equals("kmain.S")) {
                    Path object = objects.resolve(asm.getFileName() + ".o");
                    new GnuAssembler().assemble(asm, List.of(kernel.includeDir()), object);
                    linked.add(object);
                }
            }
            Path object = objects.resolve(name + ".o");
            run(List.of("gcc", "-g", "-O" + optimisation, "-ffreestanding", "-fno-pic", "-fno-stack-protector",
                    "-mno-red-zone", "-mcmodel=kernel", "-fno-asynchronous-unwind-tables", "-c", source.toString(),
                    "-o", object.toString()));
            linked.add(object);
            Path elf = dir.resolve(name + ".elf");
            new GnuLinker().link(linked, KernelSources.home().resolve("linker/kernel.ld"), elf);
            return new CKernel(source, new KernelSources.BuiltImages(kernel.build().firmware(), elf));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The 1-based line of the first source line containing {@code marker}. */
    public int lineOf(String marker) {
        try {
            List<String> lines = Files.readAllLines(source);
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).contains(marker)) {
                    return i + 1;
                }
            }
            throw new IllegalArgumentException("no line of " + source + " contains '" + marker + "'");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static boolean addr2lineInstalled() {
        try {
            return new ProcessBuilder("addr2line", "--version").redirectErrorStream(true).start().waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
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
            throw new IllegalStateException("interrupted: " + command, e);
        }
    }
}
