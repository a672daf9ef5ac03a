package dev.kemu.elf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The ELF64 file header and the extent of its header tables, read and checked before jelf parses the file.
 * jelf reads counts as signed shorts and fields in whatever byte order EI_DATA claims, so a hostile or damaged
 * header reaches the user as "-1" or a wrong e_machine; here each defect gets a sentence that names the field.
 */
record ElfHeader(long phoff, int phnum, long shoff, int shnum) {
    static final int SIZE = 64, PHDR_SIZE = 56, SHDR_SIZE = 64;
    private static final int ELFDATA2LSB = 1, ELFDATA2MSB = 2, EM_X86_64 = 62, PN_XNUM = 0xffff, SHT_NOBITS = 8;

    /** Checks what the rest of the reader relies on; {@code bytes} is the whole file. */
    static ElfHeader check(String path, byte[] bytes) {
        int data = bytes[5];
        if (data == ELFDATA2MSB) {
            throw new ElfFormatException(path + ": big-endian ELF (EI_DATA 2); kemu loads little-endian x86-64 images");
        }
        if (data != ELFDATA2LSB) {
            throw new ElfFormatException(path + ": EI_DATA " + data + " is neither 1 (little-endian) nor 2 (big-endian)");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int machine = Short.toUnsignedInt(b.getShort(18));
        if (machine != EM_X86_64) {
            String swapped = machine == EM_X86_64 << 8
                    ? "; " + machine + " is 62 byte-swapped, so the header was probably written big-endian" : "";
            throw new ElfFormatException(path + ": e_machine " + machine + " is not x86-64 (62)" + swapped);
        }
        ElfHeader header = new ElfHeader(b.getLong(32), Short.toUnsignedInt(b.getShort(56)), b.getLong(40),
                Short.toUnsignedInt(b.getShort(60)));
        header.checkProgramHeaders(path, b, bytes.length);
        if (header.shoff != 0 && header.shnum == 0) {
            throw new ElfFormatException(path + ": e_shnum is 0 although e_shoff is set (extended section numbering: "
                    + "the count is in section 0), which kemu does not support");
        }
        return header;
    }

    /**
     * Symbols (and so the boot-stage markers) come from the sections: a damaged table must be named here, not
     * surface later as a missing symbol. Checked after the segments, whose data matters more.
     */
    void checkSections(String path, byte[] bytes) {
        checkSectionHeaders(path, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN), bytes.length);
    }

    private void checkProgramHeaders(String path, ByteBuffer b, int length) {
        if (phnum == PN_XNUM) {
            throw new ElfFormatException(path + ": e_phnum is 0xffff (PN_XNUM: the real count is in section 0), "
                    + "which kemu does not support; a kernel image has only a few segments");
        }
        if (phnum == 0) {
            throw new ElfFormatException(path + ": no program headers (e_phnum 0): nothing to load");
        }
        int entrySize = Short.toUnsignedInt(b.getShort(54));
        if (entrySize != PHDR_SIZE) {
            throw new ElfFormatException(path + ": e_phentsize " + entrySize + " is not " + PHDR_SIZE + " (ELF64 Phdr)");
        }
        long tableSize = (long) phnum * PHDR_SIZE;
        long end = phoff + tableSize;
        // Compared without adding first: an e_phoff near 2^63 would wrap the sum past the check.
        if (phoff < 0 || phoff > length || tableSize > length - phoff) {
            throw new ElfFormatException(String.format("%s: truncated ELF: %d program headers at e_phoff 0x%x end at "
                    + "0x%x but the file has 0x%x bytes", path, phnum, phoff, end, length));
        }
    }

    private void checkSectionHeaders(String path, ByteBuffer b, int length) {
        if (shoff == 0) {
            return;
        }
        int entrySize = Short.toUnsignedInt(b.getShort(58));
        if (entrySize != SHDR_SIZE) {
            throw new ElfFormatException(path + ": e_shentsize " + entrySize + " is not " + SHDR_SIZE + " (ELF64 Shdr)");
        }
        long end = shoff + (long) shnum * SHDR_SIZE;
        if (shoff < 0 || shoff >= length) {
            throw new ElfFormatException(String.format("%s: bad e_shoff 0x%x: the section headers would start past "
                    + "the end of the file (0x%x bytes); the file is truncated or its header damaged", path, shoff, length));
        }
        if ((long) shnum * SHDR_SIZE > length - shoff) {
            throw new ElfFormatException(String.format("%s: truncated ELF: section headers [0x%x, 0x%x) end past the "
                    + "end of the file (0x%x bytes)", path, shoff, end, length));
        }
        for (int i = 0; i < shnum; i++) {
            int at = (int) (shoff + (long) i * SHDR_SIZE);
            long offset = b.getLong(at + 24), size = b.getLong(at + 32);
            if (b.getInt(at + 4) != SHT_NOBITS && size != 0 && (offset < 0 || size < 0 || offset > length || size > length - offset)) {
                throw new ElfFormatException(String.format("%s: truncated ELF: section %d needs file bytes [0x%x, 0x%x) "
                        + "but the file has 0x%x", path, i, offset, offset + size, length));
            }
        }
    }
}
