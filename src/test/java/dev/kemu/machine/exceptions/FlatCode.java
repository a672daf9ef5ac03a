package dev.kemu.machine.exceptions;

import dev.kemu.elf.ElfImage;
import dev.kemu.elf.Segment;
import dev.kemu.elf.SymbolTable;
import dev.kemu.machine.Machine;
import dev.kemu.toolchain.GnuAssembler;
import dev.kemu.toolchain.GnuLinker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Guest code for bare-machine tests, assembled and linked by the real GNU toolchain into one
 * section at a chosen address (Intel syntax; {@code .code32} or {@code .code64} in the text),
 * with its labels.
 */
record FlatCode(long origin, byte[] bytes, SymbolTable symbols) {
    static FlatCode assemble(Path dir, String name, long origin, String source) {
        try {
            Path asm = dir.resolve(name + ".S");
            Files.writeString(asm, ".intel_syntax noprefix\n.text\n" + source + "\n");
            Path object = dir.resolve(name + ".o");
            new GnuAssembler().assemble(asm, List.of(), object);
            Path script = dir.resolve(name + ".ld");
            Files.writeString(script, "OUTPUT_FORMAT(elf64-x86-64)\nSECTIONS { . = 0x" + Long.toHexString(origin)
                    + "; .text : { *(.text*) *(.rodata*) *(.data*) *(.bss*) } /DISCARD/ : { *(.note*) } }\n");
            Path elf = dir.resolve(name + ".elf");
            new GnuLinker().link(List.of(object), script, elf);
            ElfImage image = ElfImage.read(elf);
            List<Segment> segments = image.segments();
            if (segments.size() != 1 || segments.getFirst().vaddr() != origin) {
                throw new IllegalStateException(name + ": expected one segment at 0x" + Long.toHexString(origin)
                        + ", got " + segments);
            }
            return new FlatCode(origin, segments.getFirst().data(), image.symbols());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The address of {@code label}. */
    long at(String label) {
        return symbols.address(label);
    }

    void load(Machine machine) {
        machine.ram().write(origin, bytes);
    }
}
