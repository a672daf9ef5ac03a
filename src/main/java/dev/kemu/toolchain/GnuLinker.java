package dev.kemu.toolchain;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** GNU {@code ld}: no dynamic sections, 4 KiB segment alignment so file offsets stay small. */
public final class GnuLinker implements Linker {
    private final String executable;
    private final List<String> extraArguments;

    public GnuLinker() {
        this("ld", List.of());
    }

    /** {@code extraArguments} go before the objects, e.g. {@code --just-symbols=kernel.elf}. */
    public GnuLinker(String executable, List<String> extraArguments) {
        this.executable = executable;
        this.extraArguments = List.copyOf(extraArguments);
    }

    @Override
    public void link(List<Path> objects, Path script, Path output) {
        List<String> command = new ArrayList<>(List.of(executable, "-n", "-static", "-z", "max-page-size=0x1000",
                "--no-warn-rwx-segments", "-T", script.toString(), "-o", output.toString()));
        command.addAll(extraArguments);
        objects.forEach(o -> command.add(o.toString()));
        ProcessRunner.Result result = ProcessRunner.run(command, null);
        if (result.exitCode() != 0) {
            List<Diagnostic> diagnostics = new ArrayList<>();
            for (String line : result.output().split("\\R")) {
                if (!line.isBlank()) {
                    diagnostics.add(new Diagnostic(script.toString(), 0, line.replaceFirst("^.*?ld: ", "")));
                }
            }
            throw new ToolchainException("linking " + output.getFileName() + " failed", diagnostics);
        }
    }
}
