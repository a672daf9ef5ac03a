package dev.kemu.machine;

import dev.kemu.unicorn.Context;
import dev.kemu.unicorn.X86Reg;

/**
 * {@link EmulatedMmu} for 32-bit protected mode: a bare {@link Machine} that leaves long mode the
 * architectural way (as kemu's firmware stub does), then performs one guest access through 32-bit
 * or PAE page tables a test wrote and reports what Unicorn's MMU did.
 *
 * <p>Physical layout: the harness's code, stacks and GDT at 0x10000..0x14fff, identity-mapped by its
 * own tables: for 32-bit paging {@code PD[0]} at {@link #PD32}, for PAE {@code PDPT[0]} at {@link #PDPT}.
 * A test owns the other top-level entries, the tables from {@link #TEST_TABLES} and the data frames in
 * {@code [SCRATCH, RAM)}, where every doubleword initially holds its own address XOR {@link #SALT}.
 * Accesses run in ring 0 or, after an {@code iretd}, in ring 3, and end in {@code int3}.
 */
final class ProtectedModeMmu implements AutoCloseable {
    static final long RAM = 8 << 20, SCRATCH = 4 << 20, TEST_TABLES = 0x10_0000;
    static final long PD32 = 0x5000, PDPT = 0x7000;
    static final int SALT = 0x5a5a_0000;
    private static final long LONG_PML4 = 0x1000, LONG_PDPT = 0x2000, LONG_PD = 0x3000;
    private static final long PT32 = 0x6000, PAE_PD = 0x8000, PAE_PT = 0x9000;
    private static final long KERNEL_CODE = 0x10000, USER_CODE = 0x11000, USER_STACK = 0x12000, KERNEL_STACK = 0x13000,
            GDT = 0x14000;
    private static final long COMPAT = KERNEL_CODE + 0x40, TO_USER = KERNEL_CODE + 0x130, SET_PAGING = KERNEL_CODE + 0x180;
    private static final int VECTOR_NONE = -1;

    /** What the guest access did. {@code value} is EAX at the int3 (the value read, or the fetched code's marker). */
    record Outcome(int vector, int errorCode, long cr2, long value) {}

    private final Machine machine = new Machine(RAM);
    private final Context protectedMode;
    private int vector, errorCode;
    private long cr2;

    ProtectedModeMmu() {
        GuestRam ram = machine.ram();
        writeLongModeIdentityMap(ram);
        writeLegacyTables(ram);
        long[] gdt = {0, 0x00af9a000000ffffL, 0x00cf92000000ffffL, 0x00cf9a000000ffffL, // null, code64, data, code32
                0x00cffa000000ffffL, 0x00cff2000000ffffL};                           // 0x23 user code32, 0x2b user data
        for (int i = 0; i < gdt.length; i++) {
            ram.write64(GDT + 8L * i, gdt[i]);
        }
        ram.write16(GDT + 0x100, (short) (gdt.length * 8 - 1));
        ram.write64(GDT + 0x102, GDT);
        ram.write(KERNEL_CODE, new byte[]{
                0x0F, 0x01, 0x14, 0x25, 0x00, 0x41, 0x01, 0x00, // lgdt [0x14100]
                0x6A, 0x18,                                     // push 0x18 (32-bit code)
                0x68, 0x40, 0x00, 0x01, 0x00,                   // push COMPAT
                0x48, (byte) 0xCB});                            // retfq: compatibility mode
        ram.write(COMPAT, new byte[]{
                0x0F, 0x20, (byte) 0xC0,                        // mov eax, cr0
                0x25, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x7F, // and eax, ~CR0.PG: leaves IA-32e mode
                0x0F, 0x22, (byte) 0xC0,                        // mov cr0, eax
                (byte) 0xB9, (byte) 0x80, 0x00, 0x00, (byte) 0xC0, // mov ecx, MSR_EFER
                0x31, (byte) 0xC0, 0x31, (byte) 0xD2,           // xor eax, eax ; xor edx, edx
                0x0F, 0x30,                                     // wrmsr: EFER = 0
                0x0F, 0x22, (byte) 0xE0,                        // mov cr4, eax
                0x66, (byte) 0xB8, 0x2B, 0x00,                  // mov ax, 0x2b: user data, usable from ring 0 and 3
                (byte) 0x8E, (byte) 0xD8, (byte) 0x8E, (byte) 0xC0, // mov ds, ax ; mov es, ax
                0x66, (byte) 0xB8, 0x10, 0x00,                  // mov ax, 0x10
                (byte) 0x8E, (byte) 0xD0,                       // mov ss, ax
                (byte) 0xCC});                                  // int3
        ram.write(stage(Access.Kind.READ, Access.Mode.SUPERVISOR), new byte[]{(byte) 0x8B, 0x03, (byte) 0xCC});
        ram.write(stage(Access.Kind.WRITE, Access.Mode.SUPERVISOR), new byte[]{(byte) 0x89, 0x03, (byte) 0xCC});
        ram.write(stage(Access.Kind.FETCH, Access.Mode.SUPERVISOR), new byte[]{(byte) 0xFF, (byte) 0xE3}); // jmp ebx
        ram.write(stage(Access.Kind.READ, Access.Mode.USER), new byte[]{(byte) 0x8B, 0x03, (byte) 0xCC});
        ram.write(stage(Access.Kind.WRITE, Access.Mode.USER), new byte[]{(byte) 0x89, 0x03, (byte) 0xCC});
        ram.write(stage(Access.Kind.FETCH, Access.Mode.USER), new byte[]{(byte) 0xFF, (byte) 0xE3});
        ram.write(TO_USER, new byte[]{
                0x6A, 0x2B,                                     // push 0x2b (SS)
                0x68, (byte) 0xF0, 0x2F, 0x01, 0x00,            // push 0x12ff0 (ESP)
                0x6A, 0x02,                                     // push 2 (EFLAGS)
                0x6A, 0x23,                                     // push 0x23 (CS)
                0x56,                                           // push esi (EIP: the user stage)
                (byte) 0xCF});                                  // iretd
        ram.write(SET_PAGING, new byte[]{
                0x0F, 0x22, (byte) 0xD9,                        // mov cr3, ecx
                0x0F, 0x22, (byte) 0xE2,                        // mov cr4, edx
                0x0F, 0x22, (byte) 0xC0,                        // mov cr0, eax
                (byte) 0xCC});                                  // int3
        for (long at = SCRATCH; at < RAM; at += 4) {
            ram.write32(at, (int) at ^ SALT);
        }
        machine.setExceptionHandler((m, exception) -> {
            vector = exception.vector();
            if (exception.is(ExceptionVector.PF)) {
                errorCode = exception.errorCodeOrMinusOne();
                cr2 = exception.cr2();
            }
            m.finishException(); // or the next try's #PF arrives as #DF (Unicorn issue 1883)
            return ExceptionOutcome.STOP;
        });
        // Long mode needs paging on before the CPU can drop to compatibility mode and then leave it.
        machine.setRegister(X86Reg.CR3, LONG_PML4);
        machine.setRegister(X86Reg.CR4, machine.register(X86Reg.CR4) | CpuState.CR4_PAE);
        machine.setRegister(X86Reg.CR0, machine.register(X86Reg.CR0) | CpuState.CR0_PG);
        machine.setRegister(X86Reg.RSP, KERNEL_STACK + 0xff0);
        vector = VECTOR_NONE;
        RunResult setup = machine.run(KERNEL_CODE, RunLimits.budget(100));
        long efer = machine.engine().readMsr(X86Reg.MSR_EFER);
        if (vector != ExceptionVector.BP || (efer & CpuState.EFER_LMA) != 0) {
            machine.close();
            throw new IllegalStateException("the harness did not reach 32-bit protected mode: " + setup.detail()
                    + String.format(", EFER 0x%x", efer));
        }
        protectedMode = machine.engine().contextSave();
    }

    private static void writeLongModeIdentityMap(GuestRam ram) {
        long table = PageTableEntry.PRESENT | PageTableEntry.WRITABLE;
        ram.write64(LONG_PML4, LONG_PDPT | table);
        ram.write64(LONG_PDPT, LONG_PD | table);
        for (int i = 0; i < 4; i++) {
            ram.write64(LONG_PD + 8L * i, (long) i << 21 | table | PageTableEntry.HUGE);
        }
    }

    /** The harness's pages in both legacy formats: supervisor code, user code, user stack, kernel stack, GDT. */
    private static void writeLegacyTables(GuestRam ram) {
        long all = PageTableEntry.PRESENT | PageTableEntry.WRITABLE | PageTableEntry.USER;
        ram.write32(PD32, (int) (PT32 | all));
        ram.write64(PDPT, PAE_PD | PageTableEntry.PRESENT);
        ram.write64(PAE_PD, PAE_PT | all);
        long[][] pages = {{KERNEL_CODE, PageTableEntry.PRESENT}, {USER_CODE, PageTableEntry.PRESENT | PageTableEntry.USER},
                {USER_STACK, all}, {KERNEL_STACK, PageTableEntry.PRESENT | PageTableEntry.WRITABLE},
                {GDT, PageTableEntry.PRESENT | PageTableEntry.WRITABLE}}; // loading a segment sets its accessed bit
        for (long[] page : pages) {
            ram.write32(PT32 + 4 * (page[0] >> 12), (int) (page[0] | page[1]));
            ram.write64(PAE_PT + 8 * (page[0] >> 12), page[0] | page[1]);
        }
    }

    private static long stage(Access.Kind kind, Access.Mode mode) {
        return (mode == Access.Mode.USER ? USER_CODE : KERNEL_CODE + 0x100) + 0x10L * kind.ordinal();
    }

    GuestRam ram() {
        return machine.ram();
    }

    /**
     * Turns paging on in {@code format} (32-bit paging or PAE) with these controls, by guest code as a
     * kernel does ({@code mov cr3; mov cr4; mov cr0}), and returns the mode the CPU actually took.
     */
    PagingMode enablePaging(PagingFormat format, boolean pse, boolean writeProtect, boolean noExecute, boolean smep,
                            boolean smap) {
        machine.engine().contextRestore(protectedMode);
        machine.engine().writeMsr(X86Reg.MSR_EFER, noExecute ? CpuState.EFER_NXE : 0);
        boolean pae = format == PagingFormat.PAE;
        machine.setRegister(X86Reg.RCX, pae ? PDPT : PD32);
        machine.setRegister(X86Reg.RDX, (pae ? CpuState.CR4_PAE : 0) | (pse ? PagingFormat.CR4_PSE : 0)
                | (smep ? PagingMode.CR4_SMEP : 0) | (smap ? PagingMode.CR4_SMAP : 0));
        machine.setRegister(X86Reg.RAX, machine.register(X86Reg.CR0) | CpuState.CR0_PG
                | (writeProtect ? CpuState.CR0_WP : 0));
        vector = VECTOR_NONE;
        RunResult loaded = machine.run(SET_PAGING, RunLimits.budget(10));
        if (vector != ExceptionVector.BP) {
            throw new IllegalStateException("turning paging on failed: " + loaded.detail());
        }
        return PagingMode.of(machine.register(X86Reg.CR0), machine.register(X86Reg.CR4),
                machine.engine().readMsr(X86Reg.MSR_EFER), machine.register(X86Reg.RFLAGS));
    }

    /** Performs {@code access} at {@code va} in the mode last enabled; EAX holds {@code stored} for a write. */
    Outcome perform(Access access, long va, int stored) {
        machine.flushTlb(); // the test rewrote page tables
        machine.engine().flushTranslationCache(); // and maybe the code a fetch runs
        vector = VECTOR_NONE;
        errorCode = -1;
        cr2 = 0;
        machine.setRegister(X86Reg.RBX, va);
        machine.setRegister(X86Reg.RAX, stored & 0xffff_ffffL);
        long stage = stage(access.kind(), access.mode());
        machine.setRegister(X86Reg.RSI, stage);
        RunResult result = machine.run(access.user() ? TO_USER : stage, RunLimits.budget(50));
        if (vector == VECTOR_NONE) {
            throw new IllegalStateException("the access ended without an exception: " + result.reason() + ", "
                    + result.detail());
        }
        return new Outcome(vector, errorCode, cr2, machine.register(X86Reg.RAX) & 0xffff_ffffL);
    }

    @Override
    public void close() {
        protectedMode.close();
        machine.close();
    }
}
