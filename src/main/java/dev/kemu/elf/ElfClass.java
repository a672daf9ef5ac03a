package dev.kemu.elf;

/**
 * The two ELF classes kemu loads, each with the one machine it accepts and the offsets that differ between them.
 * A Multiboot kernel is an i386 ELF32 (what {@code qemu-system-x86_64 -kernel} takes) or, on kemu only, an x86-64
 * ELF64; either way the loader jumps to it in 32-bit protected mode.
 *
 * <pre>
 *   field         ELF32  ELF64        program header  ELF32  ELF64
 *   e_entry        24     24          p_offset          4      8
 *   e_phoff        28     32          p_vaddr           8     16
 *   e_shoff        32     40          p_paddr          12     24
 *   e_phentsize    42     54          p_filesz         16     32
 *   e_phnum        44     56          p_memsz          20     40
 *   e_shentsize    46     58          (entry size)     32     56
 *   e_shnum        48     60          section header: sh_offset 16/24, sh_size 20/32, entry 40/64
 * </pre>
 */
public enum ElfClass {
    ELF32(1, 3, "i386", 52, 32, 40),
    ELF64(2, 62, "x86-64", 64, 56, 64);

    private final int code;
    private final int machine;
    private final String machineName;
    private final int headerSize;
    private final int programHeaderSize;
    private final int sectionHeaderSize;

    ElfClass(int code, int machine, String machineName, int headerSize, int programHeaderSize, int sectionHeaderSize) {
        this.code = code;
        this.machine = machine;
        this.machineName = machineName;
        this.headerSize = headerSize;
        this.programHeaderSize = programHeaderSize;
        this.sectionHeaderSize = sectionHeaderSize;
    }

    /** The class of {@code EI_CLASS} value {@code code}, or an error naming the file and the value. */
    static ElfClass of(String path, int code) {
        for (ElfClass elfClass : values()) {
            if (elfClass.code == code) {
                return elfClass;
            }
        }
        throw new ElfFormatException(path + ": ELF class " + code + " is neither 1 (ELFCLASS32) nor 2 (ELFCLASS64)");
    }

    /** {@code e_machine} of the architecture kemu loads in this class: 3 (EM_386) or 62 (EM_X86_64). */
    public int machine() {
        return machine;
    }

    public String machineName() {
        return machineName;
    }

    int headerSize() {
        return headerSize;
    }

    int programHeaderSize() {
        return programHeaderSize;
    }

    int sectionHeaderSize() {
        return sectionHeaderSize;
    }

    /** Offsets of the header fields whose position depends on the class. */
    int phoffAt() {
        return this == ELF32 ? 28 : 32;
    }

    int shoffAt() {
        return this == ELF32 ? 32 : 40;
    }

    int phentsizeAt() {
        return this == ELF32 ? 42 : 54;
    }

    int sectionOffsetAt() {
        return this == ELF32 ? 16 : 24;
    }

    /** An address or offset as this class stores it: ELF32 words are unsigned 32-bit. */
    long address(long value) {
        return this == ELF32 ? value & 0xffff_ffffL : value;
    }

    @Override
    public String toString() {
        return this == ELF32 ? "ELFCLASS32" : "ELFCLASS64";
    }
}
