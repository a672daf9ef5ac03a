package dev.kemu.elf;

/** A named address from the ELF symbol table. */
public record Symbol(String name, long address, long size, boolean function) {
}
