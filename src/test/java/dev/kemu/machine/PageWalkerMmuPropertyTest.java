package dev.kemu.machine;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The walker's verdict against Unicorn's own MMU: random 4-level tables (random flags at every
 * level, PS at every level, reserved bits above MAXPHYADDR and below huge-page sizes, NX with and
 * without EFER.NXE, CR0.WP, CR4.SMEP/SMAP), one guest read, write or fetch from ring 0 or ring 3,
 * and the physical address or #PF error code and CR2 must be what the CPU produced.
 */
class PageWalkerMmuPropertyTest {
    private static final long PDPT = EmulatedMmu.TEST_TABLES + 0x1000, PD = PDPT + 0x1000, PT = PD + 0x1000;
    private static final long FETCH_MARKER = 0x0c0d_e000_0000_0000L, STORED = 0x5707_e000_0000_0001L;
    private static EmulatedMmu mmu;

    @BeforeContainer
    static void boot() {
        mmu = new EmulatedMmu();
    }

    @AfterContainer
    static void shutDown() {
        mmu.close();
    }

    @Property(tries = 400)
    void randomTablesAndAccess_walkerVerdictEqualsTheEmulatedMmu(@ForAll long seed, @ForAll Access.Kind kind,
            @ForAll Access.Mode mode, @ForAll boolean writeProtect, @ForAll boolean noExecute, @ForAll boolean smep,
            @ForAll boolean smap) {
        Random random = new Random(seed);
        long va = buildTables(random);
        Access access = Access.of(kind, mode);
        PagingMode paging = mmu.setControls(writeProtect, noExecute, smep, smap);
        PageWalk walk = new PageWalker(mmu.ram()).walk(EmulatedMmu.PML4, VirtAddr.of(va), access, paging);
        String context = access + " of " + VirtAddr.of(va) + " under " + paging + ", seed " + seed + "\n"
                + walk.describe() + walk.verdict();
        Statistics.label("verdict").collect(walk.verdict() instanceof AccessVerdict.PageFault f ? f.cause().name()
                : walk.verdict().getClass().getSimpleName());
        long fetchTarget = -1;
        if (kind == Access.Kind.FETCH && walk.verdict() instanceof AccessVerdict.Allowed allowed) {
            fetchTarget = allowed.physical().value();
            writeFetchTarget(fetchTarget);
        }
        try {
            EmulatedMmu.Outcome outcome = mmu.perform(access, va, STORED);
            check(walk.verdict(), kind, va, outcome, context);
        } finally {
            clearTables(va);
            if (fetchTarget >= 0) {
                restoreScratch(fetchTarget, 16);
            }
        }
    }

    private static void check(AccessVerdict verdict, Access.Kind kind, long va, EmulatedMmu.Outcome outcome,
                              String context) {
        switch (verdict) {
            case AccessVerdict.Allowed allowed -> {
                assertEquals(ExceptionVector.BP, outcome.vector(), "the MMU faulted, the walker allowed: " + outcome
                        + "\n" + context);
                long physical = allowed.physical().value();
                switch (kind) {
                    case READ -> assertEquals(physical, outcome.value() ^ EmulatedMmu.SALT, "read another frame\n" + context);
                    case WRITE -> {
                        assertEquals(STORED, mmu.ram().read64(physical), "the store landed elsewhere\n" + context);
                        restoreScratch(physical, 8);
                    }
                    case FETCH -> assertEquals(FETCH_MARKER ^ physical, outcome.value(), "ran other code\n" + context);
                }
            }
            case AccessVerdict.PageFault fault -> {
                assertEquals(ExceptionVector.PF, outcome.vector(), "expected a #PF: " + outcome + "\n" + context);
                assertEquals(PageFaultCode.describe(fault.errorCode()), PageFaultCode.describe(outcome.errorCode()),
                        "error code\n" + context);
                assertEquals(va, outcome.cr2(), "CR2\n" + context);
            }
            case AccessVerdict.NonCanonical ignored ->
                    assertEquals(ExceptionVector.GP, outcome.vector(), "expected #GP\n" + context);
            case AccessVerdict.TableOutsideRam outside -> fail("the test's tables lie in RAM: " + context);
        }
    }

    /**
     * Writes one random entry per level along a random path in the test's PML4 slots and returns
     * the address the path leads to. Every leaf lands inside the scratch frames: 4 KiB frames
     * there, 2 MiB pages at 4 or 6 MiB, a 1 GiB page at 0 with PD index 2 or 3.
     */
    private static long buildTables(Random random) {
        int i4 = 1 + random.nextInt(511), i3 = random.nextInt(512), i2 = 2 + random.nextInt(2), i1 = random.nextInt(512);
        long va = (long) i4 << 39 | (long) i3 << 30 | (long) i2 << 21 | (long) i1 << 12 | 16L * random.nextInt(255);
        va = va << 16 >> 16; // sign-extend bit 47
        if (random.nextInt(30) == 0) {
            va ^= 1L << (48 + random.nextInt(16)); // non-canonical: a #GP, not a #PF
        }
        GuestRam ram = mmu.ram();
        ram.write64(EmulatedMmu.PML4 + 8L * i4, entry(random, 4, PDPT));
        ram.write64(PDPT + 8L * i3, entry(random, 3, PD));
        ram.write64(PD + 8L * i2, entry(random, 2, PT));
        ram.write64(PT + 8L * i1, entry(random, 1, EmulatedMmu.SCRATCH + 4096L * random.nextInt(1024)));
        return va;
    }

    private static long entry(Random random, int level, long next) {
        long e = next;
        e |= random.nextInt(12) != 0 ? PageTableEntry.PRESENT : 0;
        e |= random.nextInt(10) < 7 ? PageTableEntry.WRITABLE : 0;
        e |= random.nextInt(10) < 8 ? PageTableEntry.USER : 0;
        e |= random.nextInt(10) == 0 ? PageTableEntry.NO_EXECUTE : 0;
        // Bits the MMU ignores here: PWT, PCD, A, D, G, the available bits 9..11 and 52..58.
        e |= random.nextLong() & (0x0000_0000_0000_0f78L | 0x07f0_0000_0000_0000L);
        if (random.nextInt(25) == 0) {
            e |= 1L << (40 + random.nextInt(12)); // above MAXPHYADDR: reserved
        }
        boolean ps = random.nextInt(level == 4 ? 12 : 3) == 0; // at PT level bit 7 is PAT
        if (ps) {
            e |= PageTableEntry.HUGE;
        }
        if (ps && (level == 3 || level == 2)) {
            e = (e & ~PageTableEntry.ADDRESS_MASK) | (level == 3 ? 0 : EmulatedMmu.SCRATCH + (2L << 20) * random.nextInt(2));
            e |= random.nextBoolean() ? 1L << 12 : 0; // PAT of a huge page, not an address bit
            if (random.nextInt(8) == 0) {
                e |= 1L << (13 + random.nextInt(level == 3 ? 17 : 8)); // below the page size: reserved
            }
        }
        return e;
    }

    private static void writeFetchTarget(long physical) {
        byte[] code = new byte[11]; // mov rax, FETCH_MARKER ^ physical ; int3
        code[0] = 0x48;
        code[1] = (byte) 0xB8;
        long marker = FETCH_MARKER ^ physical;
        for (int i = 0; i < 8; i++) {
            code[2 + i] = (byte) (marker >>> (8 * i));
        }
        code[10] = (byte) 0xCC;
        mmu.ram().write(physical, code);
    }

    private static void restoreScratch(long physical, int bytes) {
        for (long at = physical & ~7L; at < physical + bytes; at += 8) {
            mmu.ram().write64(at, at ^ EmulatedMmu.SALT);
        }
    }

    private static void clearTables(long va) {
        GuestRam ram = mmu.ram();
        for (int i = 1; i < 512; i++) {
            ram.write64(EmulatedMmu.PML4 + 8L * i, 0);
        }
        for (long table = PDPT; table <= PT; table += 0x1000) {
            ram.write(table, new byte[4096]);
        }
    }
}
