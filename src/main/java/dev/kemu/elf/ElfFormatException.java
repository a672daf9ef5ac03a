package dev.kemu.elf;

/** The file is not a loadable kernel image (x86 ELF or Multiboot); the message names the file and the defect. */
public final class ElfFormatException extends RuntimeException {
    public ElfFormatException(String message) {
        super(message);
    }

    public ElfFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
