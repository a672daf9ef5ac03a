package dev.kemu.elf;

import java.nio.file.Path;

/** Where an address's code came from: the source file as the compiler recorded it, and the line (1-based). */
public record SourceLine(String file, int line) {
    public SourceLine {
        if (file == null || file.isEmpty() || line <= 0) {
            throw new IllegalArgumentException("a source line needs a file name and a line >= 1, not '" + file + ":" + line + "'");
        }
    }

    /** {@code kernel.c:42}: the file name without its directories, as people read it next to a symbol. */
    public String shortText() {
        Path name = Path.of(file).getFileName();
        return (name == null ? file : name.toString()) + ":" + line;
    }

    @Override
    public String toString() {
        return file + ":" + line;
    }
}
