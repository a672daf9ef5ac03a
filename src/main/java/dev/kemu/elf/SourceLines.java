package dev.kemu.elf;

import java.util.Optional;

/** Maps code addresses to source lines (from DWARF line information); empty where nothing is known. */
@FunctionalInterface
public interface SourceLines {
    /** For an image without line information. */
    SourceLines NONE = address -> Optional.empty();

    Optional<SourceLine> at(long address);

    /** This lookup, then {@code other} where this one knows nothing. */
    default SourceLines or(SourceLines other) {
        if (this == NONE) {
            return other;
        }
        if (other == NONE) {
            return this;
        }
        return address -> at(address).or(() -> other.at(address));
    }
}
