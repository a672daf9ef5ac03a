package dev.kemu.machine;

/**
 * Which of the x86 paging modes translates linear addresses, chosen from CR0.PG, CR4.PAE,
 * EFER.LMA and CR4.LA57 as the processor chooses (Intel SDM vol. 3, section 4.1.1, "Four Paging
 * Modes"). Levels are numbered from the page table up, so a level's name is the same in every
 * mode: 1 = PT, 2 = PD, 3 = PDPT, 4 = PML4, 5 = PML5.
 */
public enum PagingFormat {
    /** CR0.PG clear: linear addresses are physical. */
    NONE("no paging", 0, 0, 64),
    /** CR0.PG set, CR4.PAE clear: two levels of 1024 four-byte entries; 4 MiB pages with CR4.PSE. */
    BITS_32("32-bit paging", 2, 4, 32),
    /** CR4.PAE set outside long mode: four PDPTEs, then a PD and a PT of 512 eight-byte entries. */
    PAE("PAE", 3, 8, 32),
    /** EFER.LMA set, CR4.LA57 clear: PML4, PDPT, PD, PT; 48-bit canonical addresses. */
    FOUR_LEVEL("4-level", 4, 8, 48),
    /** EFER.LMA and CR4.LA57 set: PML5 above the 4-level tables; 57-bit canonical addresses. */
    FIVE_LEVEL("5-level", 5, 8, 57);

    public static final long CR4_PSE = 1L << 4, CR4_LA57 = 1L << 12;

    private final String title;
    private final int topLevel, entryBytes, linearBits;

    PagingFormat(String title, int topLevel, int entryBytes, int linearBits) {
        this.title = title;
        this.topLevel = topLevel;
        this.entryBytes = entryBytes;
        this.linearBits = linearBits;
    }

    /** The mode the MMU uses for these control registers. */
    public static PagingFormat of(long cr0, long cr4, long efer) {
        if ((cr0 & CpuState.CR0_PG) == 0) {
            return NONE;
        }
        if ((cr4 & CpuState.CR4_PAE) == 0) {
            return BITS_32; // long mode cannot be active without PAE: the CPU refuses that CR0 write
        }
        if ((efer & CpuState.EFER_LMA) == 0) {
            return PAE;
        }
        return (cr4 & CR4_LA57) != 0 ? FIVE_LEVEL : FOUR_LEVEL;
    }

    public static PagingFormat of(CpuState cpu) {
        return of(cpu.cr0(), cpu.cr4(), cpu.efer());
    }

    /** "32-bit paging", "PAE", "4-level", "5-level" or "no paging": the name the SDM uses. */
    public String title() {
        return title;
    }

    /** The level of the table CR3 points to (0 without paging). */
    public int topLevel() {
        return topLevel;
    }

    /** 4 in 32-bit paging, 8 otherwise. */
    public int entryBytes() {
        return entryBytes;
    }

    /** The width of a linear address: 32 outside long mode, 48 or 57 in it (sign-extended to 64). */
    public int linearBits() {
        return linearBits;
    }

    /** Whether linear addresses are 32-bit, so that they print as 8 hex digits. */
    public boolean is32Bit() {
        return linearBits == 32;
    }

    /** The lowest linear-address bit that indexes a table of {@code level}. */
    public int shift(int level) {
        return this == BITS_32 ? 12 + 10 * (level - 1) : 12 + 9 * (level - 1);
    }

    /** The number of entries in a table of {@code level}: 1024, 512, or 4 for PAE's PDPT. */
    public int entries(int level) {
        return this == BITS_32 ? 1024 : this == PAE && level == 3 ? 4 : 512;
    }

    /** The bytes a leaf entry at {@code level} maps: 4 KiB, 4 MiB, 2 MiB or 1 GiB. */
    public long pageSize(int level) {
        return 1L << shift(level);
    }

    /** The index into the {@code level} table of {@code va}. */
    public int index(long va, int level) {
        return (int) ((va >>> shift(level)) & (entries(level) - 1));
    }

    /** The linear address as the mode prints it: {@code V0x00401000} when 32-bit, else {@link VirtAddr}. */
    public String format(long va) {
        return is32Bit() && (va >>> 32) == 0 ? String.format("V0x%08x", va) : VirtAddr.of(va).toString();
    }

    @Override
    public String toString() {
        return title;
    }
}
