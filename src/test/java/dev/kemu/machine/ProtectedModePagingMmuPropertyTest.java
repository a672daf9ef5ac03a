package dev.kemu.machine;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The walker's verdict against Unicorn's own MMU in 32-bit protected mode, for 32-bit paging (with and
 * without CR4.PSE: 4 MiB pages, PS ignored, bit 21 reserved) and PAE (PDPTE reserved bits, NX with and
 * without EFER.NXE, 2 MiB pages, address bits above MAXPHYADDR), with random flags at every level, CR0.WP,
 * CR4.SMEP/SMAP, and one guest read, write or fetch from ring 0 or ring 3: the physical address or the #PF
 * error code and CR2 must be what the CPU produced.
 */
class ProtectedModePagingMmuPropertyTest {
    /** The 32-bit PT sits at 0x401000, so that a PD entry with PS names a 4 MiB page at 4 MiB or, without CR4.PSE, this PT. */
    private static final long PT32 = ProtectedModeMmu.SCRATCH + 0x1000;
    private static final long PAE_PD = ProtectedModeMmu.TEST_TABLES, PAE_PT = PAE_PD + 0x1000;
    private static final int FETCH_MARKER = 0x0c0d_0000, STORED = 0x5707_e001;
    private static ProtectedModeMmu mmu;

    @BeforeContainer
    static void boot() {
        mmu = new ProtectedModeMmu();
    }

    @AfterContainer
    static void shutDown() {
        mmu.close();
    }

    @Property(tries = 300)
    void thirtyTwoBitPaging_walkerVerdictEqualsTheEmulatedMmu(@ForAll long seed, @ForAll Access.Kind kind,
            @ForAll Access.Mode mode, @ForAll boolean pse, @ForAll boolean writeProtect, @ForAll boolean smep,
            @ForAll boolean smap) {
        Random random = new Random(seed);
        long va = build32(random);
        PagingMode paging = mmu.enablePaging(PagingFormat.BITS_32, pse, writeProtect, random.nextBoolean(), smep, smap);
        try {
            checkOne(PagingFormat.BITS_32, paging, kind, mode, va, seed);
        } finally {
            mmu.ram().write(ProtectedModeMmu.PD32 + 4, new byte[4092]);
            restoreScratch(PT32, 4096);
        }
    }

    @Property(tries = 300)
    void pae_walkerVerdictEqualsTheEmulatedMmu(@ForAll long seed, @ForAll Access.Kind kind, @ForAll Access.Mode mode,
            @ForAll boolean writeProtect, @ForAll boolean noExecute, @ForAll boolean smep, @ForAll boolean smap) {
        Random random = new Random(seed);
        long va = buildPae(random);
        PagingMode paging = mmu.enablePaging(PagingFormat.PAE, random.nextBoolean(), writeProtect, noExecute, smep, smap);
        try {
            checkOne(PagingFormat.PAE, paging, kind, mode, va, seed);
        } finally {
            mmu.ram().write(ProtectedModeMmu.PDPT + 8, new byte[24]);
            mmu.ram().write(PAE_PD, new byte[8192]);
        }
    }

    private static void checkOne(PagingFormat format, PagingMode paging, Access.Kind kind, Access.Mode mode, long va,
                                 long seed) {
        assertEquals(format, paging.format(), "the CPU took another paging mode: " + paging);
        Access access = Access.of(kind, mode);
        long cr3 = format == PagingFormat.PAE ? ProtectedModeMmu.PDPT : ProtectedModeMmu.PD32;
        PageWalk walk = new PageWalker(mmu.ram()).walk(cr3, VirtAddr.of(va), access, paging);
        String context = access + " of " + VirtAddr.of(va) + " under " + paging + ", seed " + seed + "\n"
                + walk.describe() + walk.verdict();
        Statistics.label(format.title()).collect(walk.verdict() instanceof AccessVerdict.PageFault f ? f.cause().name()
                : walk.verdict().getClass().getSimpleName());
        long fetchTarget = -1;
        if (kind == Access.Kind.FETCH && walk.verdict() instanceof AccessVerdict.Allowed allowed) {
            fetchTarget = allowed.physical().value();
            writeFetchTarget(fetchTarget);
        }
        try {
            check(walk.verdict(), kind, va, mmu.perform(access, va, STORED), context);
        } finally {
            if (fetchTarget >= 0) {
                restoreScratch(fetchTarget, 8);
            }
        }
    }

    private static void check(AccessVerdict verdict, Access.Kind kind, long va, ProtectedModeMmu.Outcome outcome,
                              String context) {
        switch (verdict) {
            case AccessVerdict.Allowed allowed -> {
                assertEquals(ExceptionVector.BP, outcome.vector(), "the MMU faulted, the walker allowed: " + outcome
                        + "\n" + context);
                long physical = allowed.physical().value();
                switch (kind) {
                    case READ -> assertEquals(physical, outcome.value() ^ ProtectedModeMmu.SALT, "read another frame\n" + context);
                    case WRITE -> {
                        assertEquals(STORED, mmu.ram().read32(physical), "the store landed elsewhere\n" + context);
                        restoreScratch(physical, 4);
                    }
                    case FETCH -> assertEquals((FETCH_MARKER ^ physical) & 0xffff_ffffL, outcome.value(),
                            "ran other code\n" + context);
                }
            }
            case AccessVerdict.PageFault fault -> {
                assertEquals(ExceptionVector.PF, outcome.vector(), "expected a #PF: " + outcome + "\n" + context);
                assertEquals(PageFaultCode.describe(fault.errorCode()), PageFaultCode.describe(outcome.errorCode()),
                        "error code\n" + context);
                assertEquals(va, outcome.cr2(), "CR2\n" + context);
            }
            case AccessVerdict.NonCanonical other -> fail("every address here is 32-bit: " + context);
            case AccessVerdict.TableOutsideRam outside -> fail("the test's tables lie in RAM: " + context);
        }
    }

    /**
     * A random PD entry (index 1..1023) and PT entry along the path to a random address. A PD entry with PS
     * names the 4 MiB page at 4 MiB, or the PT at 0x401000 while CR4.PSE is clear; PT index 1 (the PT's own
     * page inside that 4 MiB page) is never used, and 4 KiB frames avoid it too.
     */
    private static long build32(Random random) {
        int i2 = 1 + random.nextInt(1023), i1 = random.nextInt(1023);
        i1 = i1 == 1 ? 0 : i1;
        long va = (long) i2 << 22 | (long) i1 << 12 | 4L * random.nextInt(1023);
        long pde = PT32 | flags(random);
        if (random.nextInt(3) == 0) {
            pde |= PageTableEntry.HUGE;
            pde |= random.nextInt(4) == 0 ? 1L << 21 : 0; // reserved in a 4 MiB page
        }
        long pte = ProtectedModeMmu.SCRATCH + 4096L * (2 + random.nextInt(1022)) | flags(random);
        pte |= random.nextInt(4) == 0 ? PageTableEntry.HUGE : 0; // PAT in a PT entry
        mmu.ram().write32(ProtectedModeMmu.PD32 + 4L * i2, (int) pde);
        mmu.ram().write32(PT32 + 4L * i1, (int) pte);
        return va;
    }

    /** A random PDPTE (index 1..3), PD entry and PT entry: leaves land in the scratch frames, 2 MiB pages at 4 or 6 MiB. */
    private static long buildPae(Random random) {
        int i3 = 1 + random.nextInt(3), i2 = random.nextInt(512), i1 = random.nextInt(512);
        long va = (long) i3 << 30 | (long) i2 << 21 | (long) i1 << 12 | 8L * random.nextInt(511);
        long pdpte = PAE_PD | (random.nextInt(12) != 0 ? PageTableEntry.PRESENT : 0);
        pdpte |= random.nextLong() & 0x1feL; // bits 8..1: reserved on hardware (checked at the CR3 load), ignored by Unicorn
        pdpte |= random.nextInt(20) == 0 ? 1L << (52 + random.nextInt(12)) : 0; // 63..52: reserved
        pdpte |= random.nextInt(20) == 0 ? 1L << (40 + random.nextInt(12)) : 0; // above MAXPHYADDR
        long pde = PAE_PT | flags(random) | noExecuteAndHigh(random);
        if (random.nextInt(3) == 0) {
            pde = (pde & ~PageTableEntry.ADDRESS_MASK) | ProtectedModeMmu.SCRATCH + (2L << 20) * random.nextInt(2)
                    | PageTableEntry.HUGE;
            pde |= random.nextBoolean() ? 1L << 12 : 0; // PAT of a 2 MiB page
            pde |= random.nextInt(8) == 0 ? 1L << (13 + random.nextInt(8)) : 0; // below the page size: reserved
        }
        long pte = ProtectedModeMmu.SCRATCH + 4096L * random.nextInt(1024) | flags(random) | noExecuteAndHigh(random);
        mmu.ram().write64(ProtectedModeMmu.PDPT + 8L * i3, pdpte);
        mmu.ram().write64(PAE_PD + 8L * i2, pde);
        mmu.ram().write64(PAE_PT + 8L * i1, pte);
        return va;
    }

    private static long flags(Random random) {
        long e = random.nextInt(12) != 0 ? PageTableEntry.PRESENT : 0;
        e |= random.nextInt(10) < 7 ? PageTableEntry.WRITABLE : 0;
        e |= random.nextInt(10) < 8 ? PageTableEntry.USER : 0;
        return e | (random.nextLong() & 0xe78L); // PWT, PCD, A, D, G and the available bits 11..9
    }

    private static long noExecuteAndHigh(Random random) {
        long e = random.nextInt(8) == 0 ? PageTableEntry.NO_EXECUTE : 0;
        e |= random.nextInt(15) == 0 ? 1L << (52 + random.nextInt(11)) : 0; // 62..52: reserved in PAE
        return e | (random.nextInt(25) == 0 ? 1L << (40 + random.nextInt(12)) : 0); // above MAXPHYADDR: reserved
    }

    private static void writeFetchTarget(long physical) {
        int marker = FETCH_MARKER ^ (int) physical;
        mmu.ram().write(physical, new byte[]{(byte) 0xB8, (byte) marker, (byte) (marker >>> 8), (byte) (marker >>> 16),
                (byte) (marker >>> 24), (byte) 0xCC}); // mov eax, marker ; int3
    }

    private static void restoreScratch(long physical, int bytes) {
        for (long at = physical & ~3L; at < physical + bytes; at += 4) {
            mmu.ram().write32(at, (int) at ^ ProtectedModeMmu.SALT);
        }
    }
}
