package dev.kemu.machine;

import java.util.ArrayList;
import java.util.List;

/**
 * Walks x86 page tables in guest RAM by the rules of the MMU, in every paging mode
 * ({@link PagingFormat}: 32-bit, PAE, 4-level, 5-level), without touching A/D bits. One
 * implementation ({@link #resolve}) answers both {@link #walk} (every level recorded, the verdict
 * in words) and {@link #translate} (allocation-free, for hot paths); property tests hold it equal
 * to Unicorn's own MMU in each mode, error code included.
 *
 * <p>The rules: an entry without P stops the walk (#PF, P clear); a present entry with a reserved
 * bit stops it with RSVD: address bits above MAXPHYADDR, NX while EFER.NXE is clear, PS in a PML4 or
 * PML5 entry, and the address bits below the page size (PAT, bit 12, excepted) of a 1 GiB (PS in a
 * PDPT entry) or 2 MiB (PS in a PD entry) page. Then the combined rights decide: U must be set
 * at every level for CPL 3; W at every level for a write from CPL 3, or from CPL 0 when CR0.WP
 * is set; NX clear at every level for a fetch; a supervisor fetch from a user page faults under
 * CR4.SMEP, a supervisor read or write of one under CR4.SMAP unless RFLAGS.AC is set.
 *
 * <p>32-bit paging ({@link LegacyPaging}) has 4-byte entries, no NX and no reserved bits except in a
 * 4 MiB page (PS in a PD entry while CR4.PSE is set): bit 21, and the PSE-36 bits 20..13 that lie
 * above MAXPHYADDR. PAE reads its four PDPTEs from CR3 at every walk, as Unicorn (QEMU) does: see
 * {@link LegacyPaging} for how that differs from a processor, which loads them when CR3 is written.
 */
public final class PageWalker {
    // Packed access (Access.bits) and controls (PagingMode.bits), so that the core allocates nothing.
    static final int READ = 0, WRITE = 1, FETCH = 2, KIND = 3, USER_ACCESS = 4;
    static final int WP = 1, NXE = 2, SMEP = 4, SMAP_ACTIVE = 8, PSE = 16;

    /** A negative result of {@link #resolve}: bit 63, the cause in bits 23..16, the level in 11..8, the error code in 7..0. */
    static final long FAULT = Long.MIN_VALUE;
    static final int NON_CANONICAL = 0x40, OUTSIDE_RAM = 0x41, WIDER_THAN_32_BITS = 0x42;
    /** Bit 12 of a 1 GiB or 2 MiB entry is PAT, not an address bit. */
    private static final long HUGE_PAT = 1L << 12;

    private static final int HOST_ACCESS = Access.SUPERVISOR_READ.bits();
    private static final int HOST_CONTROLS = PagingMode.HOST.bits();
    private static final long HOST_RESERVED = PagingMode.HOST.reservedBits();

    private final GuestRam ram;
    private final LegacyPaging legacy;

    public PageWalker(GuestRam ram) {
        this.ram = ram;
        this.legacy = new LegacyPaging(ram, this);
    }

    /**
     * The walk of {@code address} as a supervisor read on a CPU with EFER.NXE set
     * ({@link PagingMode#HOST}) in 4-level paging: does a page exist there, and what does each level allow.
     */
    public PageWalk walk(long cr3, VirtAddr address) {
        return walk(cr3, address, Access.SUPERVISOR_READ, PagingMode.HOST);
    }

    /** The walk of {@code address} for {@code access} under {@code mode}, with the MMU's verdict. */
    public PageWalk walk(long cr3, VirtAddr address, Access access, PagingMode mode) {
        List<PageWalk.Level> levels = new ArrayList<>(5);
        PagingFormat format = mode.format();
        long result = resolve(cr3, address.value(), access.bits(), mode.bits() | (mode.pageSizeExtensions() ? PSE : 0),
                mode.reservedBits(), format, levels);
        PhysAddr root = PhysAddr.of(LegacyPaging.root(cr3, format));
        List<PageWalk.Level> visited = List.copyOf(levels);
        return new PageWalk(address, root, visited, verdict(result, access, mode, root, visited), format);
    }

    /**
     * The physical address of {@code va}, or -1 when it is not mapped: {@link #walk(long, VirtAddr)}
     * without the record of levels, allocation-free for hot paths.
     */
    public long translate(long cr3, long va) {
        long result = resolve(cr3, va, HOST_ACCESS, HOST_CONTROLS, HOST_RESERVED, null);
        return result < 0 ? -1 : result;
    }

    /**
     * {@link #translate(long, long)} as a supervisor read under {@code mode} (identity without paging): the
     * 4-level fast path when the mode allows it, else the walk of the mode's own tables.
     */
    public long translate(long cr3, long va, PagingMode mode) {
        if (mode.format() == PagingFormat.FOUR_LEVEL && mode.noExecuteEnabled()) {
            return translate(cr3, va);
        }
        long result = resolve(cr3, va, HOST_ACCESS, mode.bits() | (mode.pageSizeExtensions() ? PSE : 0),
                mode.reservedBits(), mode.format(), null);
        return result < 0 ? -1 : result;
    }

    private long resolve(long cr3, long va, int access, int controls, long reserved, PagingFormat format,
                         List<PageWalk.Level> levels) {
        return switch (format) {
            // Without paging the linear address is the physical one, and 32 bits wide: a wider one reaches nothing
            // (and, as a long, would read as a fault).
            case NONE -> (va >>> 32) == 0 ? va : FAULT | (long) WIDER_THAN_32_BITS << 16;
            case BITS_32 -> legacy.resolve32(cr3, va, access, controls, levels);
            case PAE -> legacy.resolvePae(cr3, va, access, controls, reserved, levels);
            case FOUR_LEVEL -> resolve(cr3, va, access, controls, reserved, levels);
            case FIVE_LEVEL -> {
                if ((va >> 56) != 0 && (va >> 56) != -1) {
                    yield FAULT | (long) NON_CANONICAL << 16;
                }
                yield descend(cr3 & PageTableEntry.ADDRESS_MASK, va, 5, PageTableEntry.WRITABLE | PageTableEntry.USER,
                        0, access, controls, reserved, levels);
            }
        };
    }

    /**
     * The 4-level walk: the physical address (>= 0) or a packed fault (< 0). {@code levels}, when
     * not null, receives every entry read.
     */
    private long resolve(long cr3, long va, int access, int controls, long reserved, List<PageWalk.Level> levels) {
        if ((va >> 47) != 0 && (va >> 47) != -1) {
            return FAULT | (long) NON_CANONICAL << 16;
        }
        return descend(cr3 & PageTableEntry.ADDRESS_MASK, va, 4, PageTableEntry.WRITABLE | PageTableEntry.USER, 0,
                access, controls, reserved, levels);
    }

    /**
     * The walk through 8-byte entries from {@code table} at {@code top} down to a leaf, with the rights
     * combined so far ({@code rights}: AND of W and U; {@code noExecute}: OR, negative when NX is set).
     * 4-level and 5-level walks start at the root; PAE starts at the PD its PDPTE names.
     */
    long descend(long table, long va, int top, long rights, long noExecute, int access, int controls, long reserved,
                 List<PageWalk.Level> levels) {
        for (int level = top; level >= 1; level--) { // 5 = PML5, 4 = PML4 ... 1 = PT
            int shift = 3 + 9 * level; // 12 + 9 * (level - 1)
            long entryAddress = table + ((va >>> shift) & 0x1ff) * 8;
            if (!ram.contains(entryAddress, 8)) {
                return FAULT | (long) OUTSIDE_RAM << 16 | (long) level << 8;
            }
            long entry = ram.read64(entryAddress);
            if (levels != null) {
                record(levels, level, table, va, entry);
            }
            if ((entry & PageTableEntry.PRESENT) == 0) {
                return pageFault(AccessVerdict.Cause.NOT_PRESENT, level, 0, access, controls);
            }
            rights &= entry;
            noExecute |= entry;
            // PS is tested once per level, for both its meanings: that branch depends on the data, and a
            // second one (a reserved mask chosen by PS) made translate twice as slow (measured).
            if ((entry & PageTableEntry.HUGE) != 0 && level > 1) {
                // A 1 GiB or 2 MiB page, whose address bits below its size must be clear; reserved in a PML4/PML5 entry.
                if (level >= 4 || (entry & (reserved | hugeReserved(level))) != 0) {
                    return reservedBit(level, access, controls);
                }
                return leaf(entry, va, level, rights, noExecute, access, controls);
            }
            if ((entry & reserved) != 0) {
                return reservedBit(level, access, controls);
            }
            if (level == 1) {
                return leaf(entry, va, level, rights, noExecute, access, controls);
            }
            table = entry & PageTableEntry.ADDRESS_MASK;
        }
        throw new AssertionError("unreachable: a PT entry is always a leaf");
    }

    /** The end of a walk at a leaf entry: the physical address, or the #PF for rights the access lacks. */
    static long leaf(long entry, long va, int level, long rights, long noExecute, int access, int controls) {
        // A supervisor read without SMAP (every host-side translation) cannot be denied.
        if (access != READ || (controls & SMAP_ACTIVE) != 0) {
            AccessVerdict.Cause denied = denied(rights, noExecute < 0, access, controls);
            if (denied != null) {
                return pageFault(denied, level, PageFaultCode.PRESENT, access, controls);
            }
        }
        long pageMask = (1L << (3 + 9 * level)) - 1;
        return (entry & PageTableEntry.ADDRESS_MASK & ~pageMask) | (va & pageMask);
    }

    /** The address bits below the size of a huge page at {@code level} (3 or 2), PAT (bit 12) excepted. */
    private static long hugeReserved(int level) {
        return ((1L << (3 + 9 * level)) - 1) & PageTableEntry.ADDRESS_MASK & ~HUGE_PAT;
    }

    static long reservedBit(int level, int access, int controls) {
        return pageFault(AccessVerdict.Cause.RESERVED_BIT, level, PageFaultCode.PRESENT | PageFaultCode.RESERVED, access,
                controls);
    }

    static void record(List<PageWalk.Level> levels, int level, long table, long va, long entry) {
        int index = (int) ((va >>> (3 + 9 * level)) & 0x1ff);
        levels.add(new PageWalk.Level(level, PhysAddr.of(table), index, new PageTableEntry(entry)));
    }

    /** Which right the combined entries lack for the access, or null; in the order the MMU checks. */
    static AccessVerdict.Cause denied(long rights, boolean noExecute, int access, int controls) {
        boolean user = (access & USER_ACCESS) != 0;
        boolean userPage = (rights & PageTableEntry.USER) != 0;
        if (user && !userPage) {
            return AccessVerdict.Cause.USER_ACCESS_TO_SUPERVISOR_PAGE;
        }
        int kind = access & KIND;
        if (kind == FETCH) {
            if (noExecute) {
                return AccessVerdict.Cause.FETCH_FROM_NO_EXECUTE;
            }
            return !user && userPage && (controls & SMEP) != 0 ? AccessVerdict.Cause.SMEP : null;
        }
        if (!user && userPage && (controls & SMAP_ACTIVE) != 0) {
            return AccessVerdict.Cause.SMAP;
        }
        boolean writable = (rights & PageTableEntry.WRITABLE) != 0 || (!user && (controls & WP) == 0);
        return kind == WRITE && !writable ? AccessVerdict.Cause.WRITE_TO_READ_ONLY : null;
    }

    /** A packed #PF with the error code's access bits (W/R, U/S, I/D) added to {@code code}. */
    static long pageFault(AccessVerdict.Cause cause, int level, int code, int access, int controls) {
        int kind = access & KIND;
        code |= kind == WRITE ? PageFaultCode.WRITE : 0;
        code |= (access & USER_ACCESS) != 0 ? PageFaultCode.USER : 0;
        code |= kind == FETCH && (controls & (NXE | SMEP)) != 0 ? PageFaultCode.FETCH : 0;
        return FAULT | (long) cause.ordinal() << 16 | (long) level << 8 | code;
    }

    private static AccessVerdict verdict(long result, Access access, PagingMode mode, PhysAddr root,
                                         List<PageWalk.Level> levels) {
        PagingFormat format = mode.format();
        if (result >= 0) {
            long pageSize = levels.isEmpty() ? 4096 : format.pageSize(levels.getLast().level());
            return new AccessVerdict.Allowed(PhysAddr.of(result), pageSize);
        }
        int cause = (int) (result >>> 16) & 0xff, level = (int) (result >>> 8) & 0xf, code = (int) result & 0xff;
        if (cause == NON_CANONICAL) {
            return new AccessVerdict.NonCanonical(String.format("non-canonical address (bits 63..%d differ)",
                    format.linearBits() - 1));
        }
        if (cause == WIDER_THAN_32_BITS) {
            return new AccessVerdict.NonCanonical("the address is wider than 32 bits: linear addresses are 32-bit in "
                    + format.title() + ", so no access of this CPU reaches it");
        }
        if (cause == OUTSIDE_RAM) {
            PhysAddr table = levels.isEmpty() ? root : levels.getLast().entry().address();
            return new AccessVerdict.TableOutsideRam(level, table,
                    String.format("%s table %s lies outside guest RAM", PageWalk.levelName(level), table));
        }
        AccessVerdict.Cause why = AccessVerdict.Cause.values()[cause];
        return new AccessVerdict.PageFault(code, why, level, FaultReasons.describe(why, levels, access, mode));
    }

    /** Every paging structure reachable from {@code cr3} (the PML4 first), as physical addresses. */
    public List<Long> tables(long cr3) {
        List<Long> tables = new ArrayList<>();
        collectTables(cr3 & PageTableEntry.ADDRESS_MASK, 4, tables);
        return tables;
    }

    private void collectTables(long table, int level, List<Long> out) {
        if (!ram.contains(table, 4096) || out.contains(table)) {
            return;
        }
        out.add(table);
        for (int i = 0; i < 512 && level > 1; i++) {
            long entry = ram.read64(table + i * 8L);
            // PS makes a PDPT or PD entry a huge page, and a PML4 entry reserved: neither points to a table.
            if ((entry & PageTableEntry.PRESENT) != 0 && (entry & PageTableEntry.HUGE) == 0) {
                collectTables(entry & PageTableEntry.ADDRESS_MASK, level - 1, out);
            }
        }
    }
}
