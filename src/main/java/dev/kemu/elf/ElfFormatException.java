package dev.kemu.elf;

/** The file is not a loadable x86-64 ELF executable; the message names the file and the defect. */
public final class ElfFormatException extends RuntimeException {
    public ElfFormatException(String message) {
        super(message);
    }

    public ElfFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
