package dev.kemu.toolchain;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** GNU {@code as} for x86-64 (or, {@link #i386()}, for 32-bit objects). Sources use {@code .intel_syntax noprefix}. */
public final class GnuAssembler implements Assembler {
    // "kernel-asm/kmain.S:12: Error: no such instruction: `movq2 rax'"
    private static final Pattern LOCATED = Pattern.compile("^(.+?):(\\d+): (?:Error|Warning|Fatal error): (.*)$");
    private static final Pattern UNLOCATED = Pattern.compile("^(.+?): (?:Error|Fatal error|Assembler messages:)(.*)$");

    private final String executable;
    private final String mode;

    public GnuAssembler() {
        this("as");
    }

    public GnuAssembler(String executable) {
        this(executable, "--64");
    }

    private GnuAssembler(String executable, String mode) {
        this.executable = executable;
        this.mode = mode;
    }

    /** ELF32 i386 objects, to link with 32-bit kernels and gcc -m32 output. */
    public static GnuAssembler i386() {
        return new GnuAssembler("as", "--32");
    }

    @Override
    public void assemble(Path source, List<Path> includeDirs, Path object) {
        List<String> command = new ArrayList<>(List.of(executable, mode, "--fatal-warnings"));
        for (Path dir : includeDirs) {
            command.add("-I");
            command.add(dir.toString());
        }
        command.addAll(List.of("-o", object.toString(), source.toString()));
        ProcessRunner.Result result = ProcessRunner.run(command, null);
        if (result.exitCode() != 0) {
            throw new AssemblyException("assembling " + source + " failed", parse(result.output(), source));
        }
    }

    static List<Diagnostic> parse(String output, Path source) {
        return Diagnostic.parse(output, source, LOCATED, line -> !line.isBlank() && !line.endsWith("Assembler messages:")
                && UNLOCATED.matcher(line).matches());
    }
}
