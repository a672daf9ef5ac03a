package dev.kemu.toolchain;

import java.nio.file.Path;
import java.util.List;

/** Turns one assembly source into an ELF64 relocatable object. GNU as today; Keystone could plug in. */
public interface Assembler {
    /**
     * Assembles {@code source} into {@code object}, searching {@code includeDirs} for {@code .include}.
     *
     * @throws AssemblyException with {@code file:line: message} diagnostics when the source is bad
     */
    void assemble(Path source, List<Path> includeDirs, Path object);
}
