package dev.kemu.elf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The ELF file header (ELF32 or ELF64, {@link ElfClass}) and the extent of its header tables, read and checked
 * before jelf parses the file.
 * jelf reads counts as signed shorts and fields in whatever byte order EI_DATA claims, so a hostile or damaged
 * header reaches the user as "-1" or a wrong e_machine; here each defect gets a sentence that names the field.
 */
record ElfHeader(ElfClass elfClass, long phoff, int phnum, long shoff, int shnum) {
    private static final int ELFDATA2LSB = 1, ELFDATA2MSB = 2, PN_XNUM = 0xffff, SHT_NOBITS = 8;

    /** Checks what the rest of the reader relies on; {@code bytes} is the whole file, at least its header long. */
    static ElfHeader check(String path, ElfClass elfClass, byte[] bytes) {
        int data = bytes[5];
        if (data == ELFDATA2MSB) {
            throw new ElfFormatException(path + ": big-endian ELF (EI_DATA 2); kemu loads little-endian x86-64 images");
        }
        if (data != ELFDATA2LSB) {
            throw new ElfFormatException(path + ": EI_DATA " + data + " is neither 1 (little-endian) nor 2 (big-endian)");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        checkMachine(path, elfClass, Short.toUnsignedInt(b.getShort(18)));
        int counts = elfClass.phentsizeAt();
        ElfHeader header = new ElfHeader(elfClass, word(elfClass, b, elfClass.phoffAt()),
                Short.toUnsignedInt(b.getShort(counts + 2)), word(elfClass, b, elfClass.shoffAt()),
                Short.toUnsignedInt(b.getShort(counts + 6)));
        header.checkProgramHeaders(path, b, bytes.length);
        if (header.shoff != 0 && header.shnum == 0) {
            throw new ElfFormatException(path + ": e_shnum is 0 although e_shoff is set (extended section numbering: "
                    + "the count is in section 0), which kemu does not support");
        }
        return header;
    }

    /** The machine must be the x86 one of the class: an x86-64 ELF32 (x32) or an i386 ELF64 is no kernel kemu runs. */
    private static void checkMachine(String path, ElfClass elfClass, int machine) {
        if (machine == elfClass.machine()) {
            return;
        }
        for (ElfClass other : ElfClass.values()) {
            if (other != elfClass && machine == other.machine()) {
                throw new ElfFormatException(String.format("%s: e_machine %d (%s) in an %s file; an %s kernel is %s "
                        + "with e_machine %d: link it with the matching output format", path, machine, other.machineName(),
                        elfClass, other.machineName(), other, other.machine()));
            }
        }
        String swapped = machine == elfClass.machine() << 8 ? "; " + machine + " is " + elfClass.machine()
                + " byte-swapped, so the header was probably written big-endian" : "";
        throw new ElfFormatException(path + ": e_machine " + machine + " is not " + elfClass.machineName() + " ("
                + elfClass.machine() + ")" + swapped);
    }

    private static long word(ElfClass elfClass, ByteBuffer b, int at) {
        return elfClass == ElfClass.ELF32 ? Integer.toUnsignedLong(b.getInt(at)) : b.getLong(at);
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
        int entrySize = Short.toUnsignedInt(b.getShort(elfClass.phentsizeAt()));
        if (entrySize != elfClass.programHeaderSize()) {
            throw new ElfFormatException(path + ": e_phentsize " + entrySize + " is not " + elfClass.programHeaderSize()
                    + " (" + elfClass.name() + " Phdr)");
        }
        long tableSize = (long) phnum * elfClass.programHeaderSize();
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
        int entrySize = Short.toUnsignedInt(b.getShort(elfClass.phentsizeAt() + 4));
        int shdrSize = elfClass.sectionHeaderSize();
        if (entrySize != shdrSize) {
            throw new ElfFormatException(path + ": e_shentsize " + entrySize + " is not " + shdrSize + " (" + elfClass.name()
                    + " Shdr)");
        }
        long end = shoff + (long) shnum * shdrSize;
        if (shoff < 0 || shoff >= length) {
            throw new ElfFormatException(String.format("%s: bad e_shoff 0x%x: the section headers would start past "
                    + "the end of the file (0x%x bytes); the file is truncated or its header damaged", path, shoff, length));
        }
        if ((long) shnum * shdrSize > length - shoff) {
            throw new ElfFormatException(String.format("%s: truncated ELF: section headers [0x%x, 0x%x) end past the "
                    + "end of the file (0x%x bytes)", path, shoff, end, length));
        }
        for (int i = 0; i < shnum; i++) {
            int at = (int) (shoff + (long) i * shdrSize);
            int fields = at + elfClass.sectionOffsetAt();
            long offset = word(elfClass, b, fields), size = word(elfClass, b, fields + (elfClass == ElfClass.ELF32 ? 4 : 8));
            if (b.getInt(at + 4) != SHT_NOBITS && size != 0 && (offset < 0 || size < 0 || offset > length || size > length - offset)) {
                throw new ElfFormatException(String.format("%s: truncated ELF: section %d needs file bytes [0x%x, 0x%x) "
                        + "but the file has 0x%x", path, i, offset, offset + size, length));
            }
        }
    }
}
