package dev.kemu.toolchain;

import java.nio.file.Path;
import java.util.List;

/** Links objects with a linker script into an executable ELF. */
public interface Linker {
    void link(List<Path> objects, Path script, Path output);
}
