package dev.kemu.machine;

import java.util.List;

/**
 * The two paging modes of 32-bit protected mode, for {@link PageWalker}: 32-bit paging (a page
 * directory and page tables of 1024 four-byte entries) and PAE (four PDPTEs, then 8-byte entries as
 * in long mode). Linear addresses are 32-bit in both.
 *
 * <p>32-bit paging: no NX bit (EFER.NXE does nothing), no reserved bits in a PD entry pointing to a
 * table or in a PT entry. With CR4.PSE, PS in a PD entry maps a 4 MiB page whose PSE-36 bits 20..13
 * are physical-address bits 39..32; bit 21 and the PSE-36 bits at or above MAXPHYADDR are reserved.
 * Without CR4.PSE the PS bit is ignored and the entry points to a page table (Intel SDM vol. 3,
 * section 4.3, tables 4-4 to 4-6).
 *
 * <p>PAE: CR3 bits 31..5 locate the PDPT, and bits 31..30 of the address choose one of its four
 * entries. A processor loads the four PDPTEs into internal registers when CR3 is written (and when
 * paging or PAE is turned on), checks their reserved bits then (#GP on a bad one), and walks with
 * those copies until the next load, so a later store to the PDPT has no effect until CR3 is written
 * again (SDM section 4.4.1). Unicorn, like QEMU's TCG, instead reads the PDPTE from memory at every
 * walk and checks only the bits above MAXPHYADDR and bit 63 (reserved: a PDPTE has no NX) there,
 * raising #PF with RSVD rather than #GP; a PDPTE's other reserved bits (2..1, 8..5) are ignored. This
 * walker does what the emulated CPU does.
 */
final class LegacyPaging {
    /** Bits 62..52: reserved in every PAE entry (in long mode they are ignored, or protection keys). */
    static final long PAE_HIGH_RESERVED = 0x7ff0_0000_0000_0000L;
    /** The PDPTE bits Unicorn treats as reserved besides those above MAXPHYADDR: 62..52 and NX (63). */
    static final long PDPTE_RESERVED = 0xfff0_0000_0000_0000L;
    /** A 4 MiB page's bit 21, reserved whatever MAXPHYADDR is. */
    private static final long PSE_BIT_21 = 1L << 21;
    private static final long LARGE_FRAME = 0xffc0_0000L, SMALL_FRAME = 0xffff_f000L;

    private final GuestRam ram;
    /** Below its PDPTE a PAE walk is the long-mode walk from the PD down. */
    private final PageWalker longModeLevels;

    LegacyPaging(GuestRam ram, PageWalker longModeLevels) {
        this.ram = ram;
        this.longModeLevels = longModeLevels;
    }

    /** The physical address of the top-level table: the PDPT for PAE (32-byte aligned), else a 4 KiB table. */
    static long root(long cr3, PagingFormat format) {
        return switch (format) {
            case BITS_32 -> cr3 & SMALL_FRAME;
            case PAE -> cr3 & 0xffff_ffe0L;
            default -> cr3 & PageTableEntry.ADDRESS_MASK;
        };
    }

    long resolve32(long cr3, long va, int access, int controls, List<PageWalk.Level> levels) {
        if ((va >>> 32) != 0) {
            return PageWalker.FAULT | (long) PageWalker.WIDER_THAN_32_BITS << 16;
        }
        long directory = cr3 & SMALL_FRAME;
        long pde = read32(directory, (int) (va >>> 22), 2, va, levels);
        if (pde < 0) {
            return pde;
        }
        if ((pde & PageTableEntry.PRESENT) == 0) {
            return PageWalker.pageFault(AccessVerdict.Cause.NOT_PRESENT, 2, 0, access, controls);
        }
        if ((pde & PageTableEntry.HUGE) != 0 && (controls & PageWalker.PSE) != 0) {
            if ((pde & largePageReserved(PagingMode.EMULATED_MAX_PHYS_ADDR)) != 0) {
                return PageWalker.reservedBit(2, access, controls);
            }
            return leaf(largeFrame(pde) | (va & 0x3f_ffffL), pde, 2, access, controls);
        }
        long pte = read32(pde & SMALL_FRAME, (int) (va >>> 12) & 0x3ff, 1, va, levels);
        if (pte < 0) {
            return pte;
        }
        if ((pte & PageTableEntry.PRESENT) == 0) {
            return PageWalker.pageFault(AccessVerdict.Cause.NOT_PRESENT, 1, 0, access, controls);
        }
        return leaf((pte & SMALL_FRAME) | (va & 0xfff), pde & pte, 1, access, controls);
    }

    long resolvePae(long cr3, long va, int access, int controls, long reserved, List<PageWalk.Level> levels) {
        if ((va >>> 32) != 0) {
            return PageWalker.FAULT | (long) PageWalker.WIDER_THAN_32_BITS << 16;
        }
        long pdpt = root(cr3, PagingFormat.PAE);
        long entryAddress = pdpt + (va >>> 30) * 8;
        if (!ram.contains(entryAddress, 8)) {
            return PageWalker.FAULT | (long) PageWalker.OUTSIDE_RAM << 16 | 3L << 8;
        }
        long pdpte = ram.read64(entryAddress);
        if (levels != null) {
            levels.add(new PageWalk.Level(3, PhysAddr.of(pdpt), (int) (va >>> 30), new PageTableEntry(pdpte)));
        }
        if ((pdpte & PageTableEntry.PRESENT) == 0) {
            return PageWalker.pageFault(AccessVerdict.Cause.NOT_PRESENT, 3, 0, access, controls);
        }
        if ((pdpte & (reserved | PDPTE_RESERVED)) != 0) {
            return PageWalker.reservedBit(3, access, controls);
        }
        // A PDPTE grants every right: its bits 1 and 2 are not R/W and U/S. Bits 62..52, ignored in long mode,
        // are reserved in PAE's PD and PT entries as well.
        return longModeLevels.descend(pdpte & PageTableEntry.ADDRESS_MASK, va, 2,
                PageTableEntry.WRITABLE | PageTableEntry.USER, 0, access, controls, reserved | PAE_HIGH_RESERVED, levels);
    }

    /** The 4-byte entry {@code index} of {@code table} zero-extended, or a packed fault when it lies outside RAM. */
    private long read32(long table, int index, int level, long va, List<PageWalk.Level> levels) {
        long entryAddress = table + index * 4L;
        if (!ram.contains(entryAddress, 4)) {
            return PageWalker.FAULT | (long) PageWalker.OUTSIDE_RAM << 16 | (long) level << 8;
        }
        long entry = ram.read32(entryAddress) & 0xffff_ffffL;
        if (levels != null) {
            levels.add(new PageWalk.Level(level, PhysAddr.of(table), index, new PageTableEntry(entry), 4));
        }
        return entry;
    }

    /** The physical frame of a 4 MiB page: bits 31..22 of the entry, and PSE-36 bits 20..13 as bits 39..32. */
    static long largeFrame(long pde) {
        return (pde & LARGE_FRAME) | ((pde >>> 13) & 0xff) << 32;
    }

    /** The reserved bits of a 4 MiB PD entry: bit 21 and the PSE-36 bits that would name bits at or above MAXPHYADDR. */
    static long largePageReserved(int maxPhysAddrBits) {
        long usable = maxPhysAddrBits >= 40 ? 0xffL : (1L << (maxPhysAddrBits - 32)) - 1;
        return PSE_BIT_21 | (0xffL & ~usable) << 13;
    }

    /** The leaf's verdict: {@code physical}, or the #PF for rights ({@code rights}: W and U of both levels) it lacks. */
    private static long leaf(long physical, long rights, int level, int access, int controls) {
        if (access != PageWalker.READ || (controls & PageWalker.SMAP_ACTIVE) != 0) {
            AccessVerdict.Cause denied = PageWalker.denied(rights, false, access, controls);
            if (denied != null) {
                return PageWalker.pageFault(denied, level, PageFaultCode.PRESENT, access, controls);
            }
        }
        return physical;
    }
}
