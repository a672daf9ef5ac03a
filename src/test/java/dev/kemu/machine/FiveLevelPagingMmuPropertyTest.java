package dev.kemu.machine;

import dev.kemu.unicorn.Context;
import dev.kemu.unicorn.Prot;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.X86Reg;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

import java.lang.foreign.Arena;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The walker's 5-level verdict against Unicorn's MMU. kemu's machine runs Unicorn's default CPU model,
 * which has no LA57; the Icelake-Server model has it, so this test opens a bare engine with that model,
 * turns on CR4.LA57 with paging, and performs supervisor reads, writes and fetches through random
 * PML5/PML4/PDPT/PD/PT entries (random flags, PS at every level, reserved bits, non-canonical addresses
 * at bit 56, CR0.WP, EFER.NXE). Rights for ring 3 are the same code as in 4-level paging, which
 * {@link PageWalkerMmuPropertyTest} covers.
 */
class FiveLevelPagingMmuPropertyTest {
    /** uc_cpu_x86 UC_CPU_X86_ICELAKE_SERVER: CPUID.7.0:ECX[16] (LA57) is set (checked below). */
    private static final int ICELAKE_SERVER = 26;
    private static final long RAM = 8 << 20, SCRATCH = 4 << 20, SALT = 0x5a5a_0000_0000_0000L;
    private static final long PML5 = 0x1000, CODE = 0x10000, STACK = 0x13000;
    private static final long T4 = 0x10_0000, T3 = T4 + 0x1000, T2 = T3 + 0x1000, T1 = T2 + 0x1000;
    private static final long FETCH_MARKER = 0x0c0d_e000_0000_0000L, STORED = 0x5707_e000_0000_0001L;
    private static Arena arena;
    private static GuestRam ram;
    private static Unicorn uc;
    private static Context scratch;
    private static int vector, errorCode;
    private static long cr2;

    @BeforeContainer
    static void open() {
        arena = Arena.ofShared();
        ram = new GuestRam(arena.allocate(RAM, 4096));
        uc = Unicorn.openX86_64();
        uc.setCpuModel(ICELAKE_SERVER);
        uc.memMapPtr(0, ram.segment(), Prot.ALL);
        long table = PageTableEntry.PRESENT | PageTableEntry.WRITABLE;
        ram.write64(PML5, 0x2000 | table);  // PML5[0] -> PML4 -> PDPT -> PD -> PT: the harness's code and stack
        ram.write64(0x2000, 0x3000 | table);
        ram.write64(0x3000, 0x4000 | table);
        ram.write64(0x4000, 0x5000 | table);
        ram.write64(0x5000 + 8 * (CODE >> 12), CODE | PageTableEntry.PRESENT);
        ram.write64(0x5000 + 8 * (STACK >> 12), STACK | table);
        ram.write(CODE, new byte[]{0x48, (byte) 0x8B, 0x03, (byte) 0xCC});          // mov rax, [rbx] ; int3
        ram.write(CODE + 0x10, new byte[]{0x48, (byte) 0x89, 0x03, (byte) 0xCC});   // mov [rbx], rax ; int3
        ram.write(CODE + 0x20, new byte[]{(byte) 0xFF, (byte) 0xE3});                // jmp rbx
        ram.write(CODE + 0x30, new byte[]{0x0F, (byte) 0xA2, (byte) 0xCC});          // cpuid ; int3
        for (long at = SCRATCH; at < RAM; at += 8) {
            ram.write64(at, at ^ SALT);
        }
        scratch = uc.contextSave();
        uc.hookInterrupt((engine, number) -> {
            vector = number;
            try (Context inside = engine.contextSave()) {
                errorCode = ExceptionState.get().errorCode(inside);
            }
            cr2 = engine.regRead(X86Reg.CR2);
            ExceptionState.get().finishException(engine, scratch); // or the next #PF arrives as #DF
            engine.stop();
        });
        uc.regWrite(X86Reg.RAX, 7);
        uc.regWrite(X86Reg.RCX, 0);
        uc.start(CODE + 0x30, CODE + 0x100, 0, 10);
        assertEquals(1L << 16, uc.regRead(X86Reg.RCX) & (1L << 16), "Icelake-Server offers LA57");
        uc.regWrite(X86Reg.CR3, PML5);
        uc.regWrite(X86Reg.CR4, uc.regRead(X86Reg.CR4) | CpuState.CR4_PAE | PagingFormat.CR4_LA57);
        uc.regWrite(X86Reg.CR0, uc.regRead(X86Reg.CR0) | CpuState.CR0_PG);
        uc.regWrite(X86Reg.RSP, STACK + 0xff0);
    }

    @AfterContainer
    static void close() {
        scratch.close();
        uc.close();
        arena.close();
    }

    @Property(tries = 300)
    void randomTablesAndSupervisorAccess_walkerVerdictEqualsTheEmulatedMmu(@ForAll long seed,
            @ForAll Access.Kind kind, @ForAll boolean writeProtect, @ForAll boolean noExecute) {
        Random random = new Random(seed);
        long va = buildTables(random);
        long cr0 = uc.regRead(X86Reg.CR0) & ~CpuState.CR0_WP;
        uc.regWrite(X86Reg.CR0, cr0 | (writeProtect ? CpuState.CR0_WP : 0));
        long efer = uc.readMsr(X86Reg.MSR_EFER) & ~CpuState.EFER_NXE;
        uc.writeMsr(X86Reg.MSR_EFER, efer | (noExecute ? CpuState.EFER_NXE : 0));
        PagingMode mode = PagingMode.of(uc.regRead(X86Reg.CR0), uc.regRead(X86Reg.CR4), uc.readMsr(X86Reg.MSR_EFER),
                uc.regRead(X86Reg.RFLAGS));
        assertEquals(PagingFormat.FIVE_LEVEL, mode.format(), mode::toString);
        Access access = Access.of(kind, Access.Mode.SUPERVISOR);
        PageWalk walk = new PageWalker(ram).walk(PML5, VirtAddr.of(va), access, mode);
        String context = access + " of " + VirtAddr.of(va) + " under " + mode + ", seed " + seed + "\n"
                + walk.describe() + walk.verdict();
        Statistics.collect(walk.verdict() instanceof AccessVerdict.PageFault f ? f.cause().name()
                : walk.verdict().getClass().getSimpleName());
        long fetchTarget = -1;
        if (kind == Access.Kind.FETCH && walk.verdict() instanceof AccessVerdict.Allowed allowed) {
            fetchTarget = allowed.physical().value();
            writeFetchTarget(fetchTarget);
        }
        try {
            uc.flushTlb();
            uc.flushTranslationCache();
            vector = -1;
            errorCode = -1;
            uc.regWrite(X86Reg.RBX, va);
            uc.regWrite(X86Reg.RAX, STORED);
            long stage = CODE + 0x10L * kind.ordinal();
            uc.start(stage, CODE + 0x1000, 0, 20);
            check(walk.verdict(), kind, va, context);
        } finally {
            clearTables();
            if (fetchTarget >= 0) {
                restoreScratch(fetchTarget, 16);
            }
        }
    }

    private static void check(AccessVerdict verdict, Access.Kind kind, long va, String context) {
        switch (verdict) {
            case AccessVerdict.Allowed allowed -> {
                assertEquals(ExceptionVector.BP, vector, "the MMU raised vector " + vector + " (error code " + errorCode
                        + "), the walker allowed\n" + context);
                long physical = allowed.physical().value();
                switch (kind) {
                    case READ -> assertEquals(physical, uc.regRead(X86Reg.RAX) ^ SALT, "read another frame\n" + context);
                    case WRITE -> {
                        assertEquals(STORED, ram.read64(physical), "the store landed elsewhere\n" + context);
                        restoreScratch(physical, 8);
                    }
                    case FETCH -> assertEquals(FETCH_MARKER ^ physical, uc.regRead(X86Reg.RAX), "ran other code\n" + context);
                }
            }
            case AccessVerdict.PageFault fault -> {
                assertEquals(ExceptionVector.PF, vector, "expected a #PF\n" + context);
                assertEquals(PageFaultCode.describe(fault.errorCode()), PageFaultCode.describe(errorCode),
                        "error code\n" + context);
                assertEquals(va, cr2, "CR2\n" + context);
            }
            case AccessVerdict.NonCanonical ignored -> assertEquals(ExceptionVector.GP, vector, "expected #GP\n" + context);
            case AccessVerdict.TableOutsideRam outside -> fail("the test's tables lie in RAM: " + context);
        }
    }

    /** One random entry per level along a random path through PML5 slots 1..511; leaves land in the scratch frames. */
    private static long buildTables(Random random) {
        int i5 = 1 + random.nextInt(255), i4 = random.nextInt(512), i3 = random.nextInt(512),
                i2 = 2 + random.nextInt(2), i1 = random.nextInt(512);
        long va = (long) i5 << 48 | (long) i4 << 39 | (long) i3 << 30 | (long) i2 << 21 | (long) i1 << 12
                | 16L * random.nextInt(255);
        if (random.nextInt(20) == 0) {
            va ^= 1L << (57 + random.nextInt(7)); // non-canonical at bit 56: a #GP
        }
        ram.write64(PML5 + 8L * i5, entry(random, 5, T4));
        ram.write64(T4 + 8L * i4, entry(random, 4, T3));
        ram.write64(T3 + 8L * i3, entry(random, 3, T2));
        ram.write64(T2 + 8L * i2, entry(random, 2, T1));
        ram.write64(T1 + 8L * i1, entry(random, 1, SCRATCH + 4096L * random.nextInt(1024)));
        return va;
    }

    private static long entry(Random random, int level, long next) {
        long e = next | (random.nextInt(15) != 0 ? PageTableEntry.PRESENT : 0);
        e |= random.nextInt(10) < 8 ? PageTableEntry.WRITABLE : 0;
        e |= random.nextInt(10) == 0 ? PageTableEntry.NO_EXECUTE : 0;
        e |= random.nextLong() & 0x0000_0000_0000_0f7cL; // U, PWT, PCD, A, D, G, bits 11..9: no effect on a supervisor access
        e |= random.nextInt(30) == 0 ? 1L << (40 + random.nextInt(12)) : 0; // above MAXPHYADDR
        boolean ps = random.nextInt(level >= 4 ? 15 : 4) == 0;
        if (ps) {
            e |= PageTableEntry.HUGE;
        }
        if (ps && (level == 3 || level == 2)) {
            e = (e & ~PageTableEntry.ADDRESS_MASK) | (level == 3 ? 0 : SCRATCH + (2L << 20) * random.nextInt(2));
            e |= random.nextInt(8) == 0 ? 1L << (13 + random.nextInt(level == 3 ? 17 : 8)) : 0;
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
        ram.write(physical, code);
    }

    private static void restoreScratch(long physical, int bytes) {
        for (long at = physical & ~7L; at < physical + bytes; at += 8) {
            ram.write64(at, at ^ SALT);
        }
    }

    private static void clearTables() {
        ram.write(PML5 + 8, new byte[4096 - 8]);
        ram.write(T4, new byte[4 * 4096]);
    }
}
