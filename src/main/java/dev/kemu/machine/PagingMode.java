package dev.kemu.machine;

/**
 * The control bits that change what a page walk allows: CR0.WP, EFER.NXE, CR4.SMEP, CR4.SMAP
 * with RFLAGS.AC, and the CPU's physical-address width (bits above it are reserved in entries);
 * and which tables it walks: the {@link PagingFormat} and, for 32-bit paging, CR4.PSE.
 */
public record PagingMode(boolean writeProtect, boolean noExecuteEnabled, boolean smep, boolean smap,
                         boolean alignmentCheck, int maxPhysAddrBits, PagingFormat format,
                         boolean pageSizeExtensions) {
    public static final long CR4_SMEP = 1L << 20, CR4_SMAP = 1L << 21;
    public static final long RFLAGS_AC = 1L << 18;
    /**
     * MAXPHYADDR of Unicorn 2.1's emulated CPU (QEMU's TCG_PHYS_ADDR_BITS); its CPUID leaf
     * 0x80000008 reports the same (checked by PagingModeTest), and its MMU faults on entry bits 40..51.
     */
    public static final int EMULATED_MAX_PHYS_ADDR = 40;

    /**
     * What host-side translation assumes ({@link PageWalker#translate}): a supervisor that may
     * read anything mapped, NX bits allowed (EFER.NXE set, as kemu's kernel runs), no SMAP.
     */
    public static final PagingMode HOST = new PagingMode(false, true, false, false, false, EMULATED_MAX_PHYS_ADDR);

    public PagingMode {
        if (maxPhysAddrBits < 32 || maxPhysAddrBits > 52) {
            throw new IllegalArgumentException("MAXPHYADDR must be 32..52 bits, got " + maxPhysAddrBits);
        }
    }

    /** 4-level paging with these controls. */
    public PagingMode(boolean writeProtect, boolean noExecuteEnabled, boolean smep, boolean smap,
                      boolean alignmentCheck, int maxPhysAddrBits) {
        this(writeProtect, noExecuteEnabled, smep, smap, alignmentCheck, maxPhysAddrBits, PagingFormat.FOUR_LEVEL, true);
    }

    /**
     * What a debugger sees of a CPU with these control registers: its paging mode, CR4.PSE and EFER.NXE
     * (which decide what the tables mean), without the checks only a real access meets (CR0.WP, SMEP, SMAP).
     */
    public static PagingMode hostView(long cr0, long cr4, long efer) {
        return new PagingMode(false, (efer & CpuState.EFER_NXE) != 0, false, false, false, EMULATED_MAX_PHYS_ADDR,
                PagingFormat.of(cr0, cr4, efer), (cr4 & PagingFormat.CR4_PSE) != 0);
    }

    /** The same controls walking {@code newFormat}'s tables. */
    public PagingMode withFormat(PagingFormat newFormat) {
        return new PagingMode(writeProtect, noExecuteEnabled, smep, smap, alignmentCheck, maxPhysAddrBits, newFormat,
                pageSizeExtensions);
    }

    /**
     * The mode of a CPU state (its CR0, CR4, EFER and RFLAGS) on the emulated CPU. Unicorn's default
     * model (Haswell) has SMEP but no SMAP: a guest {@code mov cr4} drops SMAP, but a host-side
     * CR4 write keeps the bit in the register while the MMU ignores it, so read CR4 after a guest load.
     */
    public static PagingMode of(CpuState cpu) {
        return of(cpu.cr0(), cpu.cr4(), cpu.efer(), cpu.rflags());
    }

    public static PagingMode of(long cr0, long cr4, long efer, long rflags) {
        return new PagingMode((cr0 & CpuState.CR0_WP) != 0, (efer & CpuState.EFER_NXE) != 0, (cr4 & CR4_SMEP) != 0,
                (cr4 & CR4_SMAP) != 0, (rflags & RFLAGS_AC) != 0, EMULATED_MAX_PHYS_ADDR,
                PagingFormat.of(cr0, cr4, efer), (cr4 & PagingFormat.CR4_PSE) != 0);
    }

    /** Entry bits that are reserved at every level: address bits above MAXPHYADDR, and NX while NXE is clear. */
    public long reservedBits() {
        long aboveMaxPhys = PageTableEntry.ADDRESS_MASK & -(1L << maxPhysAddrBits);
        return aboveMaxPhys | (noExecuteEnabled ? 0 : PageTableEntry.NO_EXECUTE);
    }

    /**
     * The controls packed for {@link PageWalker}'s allocation-free core. EFER.NXE does nothing in 32-bit
     * paging (its 4-byte entries have no NX bit, and a fetch's #PF sets I/D only under SMEP there).
     */
    int bits() {
        boolean nxe = noExecuteEnabled && format != PagingFormat.BITS_32;
        return (writeProtect ? PageWalker.WP : 0) | (nxe ? PageWalker.NXE : 0) | (smep ? PageWalker.SMEP : 0)
                | (smap && !alignmentCheck ? PageWalker.SMAP_ACTIVE : 0);
    }
}
