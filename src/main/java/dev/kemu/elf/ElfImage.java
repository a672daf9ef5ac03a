package dev.kemu.elf;

import net.fornwall.jelf.ElfFile;
import net.fornwall.jelf.ElfSegment;
import net.fornwall.jelf.ElfSymbol;
import net.fornwall.jelf.ElfSymbolTableSection;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A loadable x86 ELF executable, i386 ELF32 or x86-64 ELF64 ({@link ElfClass}): entry point, PT_LOAD segments and
 * symbols, addresses zero-extended to 64 bits. Parsing is jelf's; the checks that make a bad file a clear error
 * (truncation, class, byte order, machine, header tables and segments that run past the end of the file) are ours
 * ({@link ElfHeader}).
 */
public record ElfImage(Path path, long entry, List<Segment> segments, SymbolTable symbols) {
    private static final int SHN_UNDEF = 0, SHN_ABS = 0xfff1;

    public static ElfImage read(Path path) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new ElfFormatException(path + ": cannot read: " + e.getMessage(), e);
        }
        return parse(path, bytes);
    }

    public static ElfImage parse(Path path, byte[] bytes) {
        if (!isElf(bytes)) {
            throw new ElfFormatException(path + ": not an ELF file (no \\x7fELF magic)");
        }
        if (bytes.length <= 4) {
            throw new ElfFormatException(path + ": truncated ELF: " + bytes.length + " bytes, not even the ELF class");
        }
        ElfClass elfClass = ElfClass.of(path.toString(), bytes[4]);
        if (bytes.length < elfClass.headerSize()) {
            throw new ElfFormatException(path + ": truncated ELF: " + bytes.length + " bytes, the " + elfClass.name()
                    + " header alone is " + elfClass.headerSize());
        }
        ElfHeader header = ElfHeader.check(path.toString(), elfClass, bytes);
        ElfFile elf;
        try {
            elf = ElfFile.from(bytes);
        } catch (RuntimeException e) {
            throw new ElfFormatException(path + ": malformed ELF: " + e, e);
        }
        try {
            List<Segment> segments = loadSegments(path, elfClass, elf, bytes);
            header.checkSections(path.toString(), bytes);
            return new ElfImage(path, elfClass.address(elf.e_entry), segments, readSymbols(elfClass, elf)
                    .withSourceLines(Addr2Line.forImage(path, elf.firstSectionByName(".debug_line") != null)));
        } catch (RuntimeException e) {
            if (e instanceof ElfFormatException format) {
                throw format;
            }
            throw new ElfFormatException(path + ": malformed ELF: " + e, e);
        }
    }

    /** Whether {@code bytes} start with the ELF magic (a file shorter than the magic counts when it is a prefix). */
    public static boolean isElf(byte[] bytes) {
        byte[] magic = {0x7f, 'E', 'L', 'F'};
        for (int i = 0; i < Math.min(bytes.length, magic.length); i++) {
            if (bytes[i] != magic[i]) {
                return false;
            }
        }
        return bytes.length > 0;
    }

    private static List<Segment> loadSegments(Path path, ElfClass elfClass, ElfFile elf, byte[] bytes) {
        List<Segment> segments = new ArrayList<>();
        for (int i = 0; i < Short.toUnsignedInt(elf.e_phnum); i++) {
            ElfSegment ph = elf.getProgramHeader(i);
            if (ph.p_type != ElfSegment.PT_LOAD) {
                continue;
            }
            long offset = elfClass.address(ph.p_offset), fileSize = elfClass.address(ph.p_filesz);
            long memSize = elfClass.address(ph.p_memsz);
            // Unsigned and without adding: a hostile offset plus size must not wrap around to "fits".
            if (Long.compareUnsigned(offset, bytes.length) > 0
                    || Long.compareUnsigned(fileSize, bytes.length - offset) > 0) {
                throw new ElfFormatException(String.format(
                        "%s: truncated ELF: segment %d needs file bytes [0x%x, 0x%x) but the file has 0x%x", path, i,
                        offset, offset + fileSize, bytes.length));
            }
            if (Long.compareUnsigned(memSize, fileSize) < 0) {
                throw new ElfFormatException(path + ": segment " + i + " has p_memsz < p_filesz");
            }
            byte[] data = Arrays.copyOfRange(bytes, (int) offset, (int) (offset + fileSize));
            segments.add(new Segment(elfClass.address(ph.p_vaddr), elfClass.address(ph.p_paddr), memSize, ph.p_flags,
                    data));
        }
        if (segments.isEmpty()) {
            throw new ElfFormatException(path + ": no PT_LOAD segment: nothing to load");
        }
        return List.copyOf(segments);
    }

    /** The section headers were checked by {@link ElfHeader}; an image without them simply has no symbols. */
    private static SymbolTable readSymbols(ElfClass elfClass, ElfFile elf) {
        if (elf.e_shoff == 0) {
            return SymbolTable.empty();
        }
        ElfSymbolTableSection table = elf.getSymbolTableSection();
        if (table == null) {
            return SymbolTable.empty();
        }
        List<Symbol> symbols = new ArrayList<>();
        for (ElfSymbol symbol : table.symbols) {
            int section = Short.toUnsignedInt(symbol.st_shndx);
            int type = symbol.getType();
            if (section == SHN_UNDEF || section == SHN_ABS || type == ElfSymbol.STT_SECTION || type == ElfSymbol.STT_FILE) {
                continue;
            }
            String name = symbol.getName();
            if (name == null || name.isEmpty() || name.startsWith(".L")) {
                continue;
            }
            long address = elfClass.address(symbol.st_value);
            symbols.add(new Symbol(name, address, elfClass.address(symbol.st_size), type == ElfSymbol.STT_FUNC));
            if (elfClass == ElfClass.ELF32 && address >= 0x8000_0000L) {
                // A 64-bit kernel converted to ELF32 for QEMU (objcopy -O elf32-i386) runs at the sign-extended
                // address its 32-bit symbols lost; the alias symbolizes RIPs there. By name the 32-bit one wins.
                symbols.add(new Symbol(name, address | 0xffff_ffff_0000_0000L, elfClass.address(symbol.st_size),
                        type == ElfSymbol.STT_FUNC));
            }
        }
        return new SymbolTable(symbols);
    }

    /** The lowest and highest physical addresses the image occupies, {@code [low, high)}. */
    public long physicalEnd() {
        return segments.stream().mapToLong(s -> s.paddr() + s.memSize()).max().orElse(0);
    }

    public long physicalStart() {
        return segments.stream().mapToLong(Segment::paddr).min().orElse(0);
    }
}
