package dev.kemu.toolchain;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * gcc for guest code in C, as kernel authors compile it: freestanding, no red zone (interrupts push onto
 * the stack below RSP), the kernel code model (code in the top 2 GiB, where kemu's snippets run), no
 * stack protector or PIC, and no unwind tables. Warnings are reported only when the compile fails.
 */
public final class CCompiler {
    /** What every compile gets; the kernel author's own flags come after. */
    public static final List<String> KERNEL_FLAGS = List.of("-m64", "-ffreestanding", "-mno-red-zone",
            "-mcmodel=kernel", "-fno-pic", "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-nostdlib", "-O2");
    /** The same for a 32-bit protected-mode kernel: i386 code, which has no red zone and no code models. */
    public static final List<String> KERNEL_FLAGS_32 = List.of("-m32", "-ffreestanding", "-fno-pic",
            "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-nostdlib", "-O2");
    // "tests/add.c:3:5: error: expected ';' before '}' token"
    private static final Pattern LOCATED = Pattern.compile("^(.+?):(\\d+):(?:\\d+:)? (?:fatal )?error: (.*)$");

    private final String executable;
    private final List<String> kernelFlags;

    public CCompiler() {
        this("gcc");
    }

    public CCompiler(String executable) {
        this(executable, KERNEL_FLAGS);
    }

    private CCompiler(String executable, List<String> kernelFlags) {
        this.executable = executable;
        this.kernelFlags = kernelFlags;
    }

    /** gcc for guest code of a 32-bit kernel ({@link #KERNEL_FLAGS_32}). */
    public static CCompiler i386() {
        return new CCompiler("gcc", KERNEL_FLAGS_32);
    }

    /** Compiles {@code source} into {@code object}, searching {@code includeDirs} for headers. */
    public void compile(Path source, List<Path> includeDirs, List<String> extraFlags, Path object) {
        List<String> command = new ArrayList<>(List.of(executable));
        command.addAll(kernelFlags);
        command.addAll(extraFlags);
        for (Path dir : includeDirs) {
            command.add("-I");
            command.add(dir.toString());
        }
        command.addAll(List.of("-c", "-o", object.toString(), source.toString()));
        ProcessRunner.Result result;
        try {
            result = ProcessRunner.run(command, null);
        } catch (ToolchainException e) {
            throw new ToolchainException("cannot compile C guest code: " + e.getMessage()
                    + " (guest code in C needs gcc: apt-get install gcc)", List.of());
        }
        if (result.exitCode() != 0) {
            throw new AssemblyException("compiling " + source + " failed", parse(result.output(), source));
        }
    }

    static List<Diagnostic> parse(String output, Path source) {
        return Diagnostic.parse(output, source, LOCATED, line -> false);
    }
}
