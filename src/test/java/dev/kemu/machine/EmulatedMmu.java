package dev.kemu.machine;

import dev.kemu.unicorn.Context;
import dev.kemu.unicorn.X86Reg;

/**
 * A bare {@link Machine} that performs one guest access through page tables a test wrote, and
 * reports what Unicorn's MMU did: the value read, or the #PF with its error code and CR2.
 *
 * <p>Physical layout: the harness's own tables (CR3 = {@link #PML4}) identity-map its pages
 * through {@code PML4[0]} with 4 KiB pages; a test owns every other PML4 slot, the tables at
 * {@link #TEST_TABLES} and the data frames in {@code [SCRATCH, RAM)}, where every quadword
 * initially holds its own physical address XOR {@link #SALT}. Accesses run in ring 0 from a
 * supervisor page or, after an {@code iretq}, in ring 3 from a user page, and end in {@code int3}.
 */
final class EmulatedMmu implements AutoCloseable {
    static final long RAM = 8 << 20, SCRATCH = 4 << 20, TEST_TABLES = 0x10_0000;
    static final long PML4 = 0x1000, SALT = 0x5a5a_0000_0000_0000L;
    private static final long PDPT = 0x2000, PD = 0x3000, PT = 0x4000;
    private static final long KERNEL_CODE = 0x10000, USER_CODE = 0x11000, USER_STACK = 0x12000, KERNEL_STACK = 0x13000,
            GDT = 0x14000;
    private static final long TO_USER = KERNEL_CODE + 0x130, SET_CR4 = KERNEL_CODE + 0x180;
    private static final int VECTOR_NONE = -1;

    /** What the guest access did. {@code value} is RAX at the int3 (the value read, or the fetched code's marker). */
    record Outcome(int vector, int errorCode, long cr2, long value) {
        boolean completed() {
            return vector == ExceptionVector.BP;
        }
    }

    private final Machine machine = new Machine(RAM);
    private final Context kernelMode;
    private int vector, errorCode;
    private long cr2;

    EmulatedMmu() {
        GuestRam ram = machine.ram();
        long table = PageTableEntry.PRESENT | PageTableEntry.WRITABLE | PageTableEntry.USER;
        ram.write64(PML4, PDPT | table);
        ram.write64(PDPT, PD | table);
        ram.write64(PD, PT | table);
        // Supervisor code on a supervisor page (CR4.SMEP may be on), user code on a user page; no NX
        // anywhere, because EFER.NXE may be off and then NX is a reserved bit.
        mapHarness(KERNEL_CODE, PageTableEntry.PRESENT);
        mapHarness(USER_CODE, PageTableEntry.PRESENT | PageTableEntry.USER);
        mapHarness(USER_STACK, PageTableEntry.PRESENT | PageTableEntry.WRITABLE | PageTableEntry.USER);
        mapHarness(KERNEL_STACK, PageTableEntry.PRESENT | PageTableEntry.WRITABLE);
        mapHarness(GDT, PageTableEntry.PRESENT | PageTableEntry.WRITABLE); // loading a segment sets its accessed bit
        for (int i = 0; i < FlatSegments.GDT.length; i++) {
            ram.write64(GDT + 8L * i, FlatSegments.GDT[i]);
        }
        ram.write(GDT + 0x100, FlatSegments.gdtr(GDT));
        ram.write(KERNEL_CODE, FlatSegments.concat(FlatSegments.loadKernelSegments(GDT + 0x100),
                new byte[]{(byte) 0xCC}));                                      // int3
        ram.write(stage(Access.Kind.READ, Access.Mode.SUPERVISOR), new byte[]{0x48, (byte) 0x8B, 0x03, (byte) 0xCC});
        ram.write(stage(Access.Kind.WRITE, Access.Mode.SUPERVISOR), new byte[]{0x48, (byte) 0x89, 0x03, (byte) 0xCC});
        ram.write(stage(Access.Kind.FETCH, Access.Mode.SUPERVISOR), new byte[]{(byte) 0xFF, (byte) 0xE3}); // jmp rbx
        ram.write(stage(Access.Kind.READ, Access.Mode.USER), new byte[]{0x48, (byte) 0x8B, 0x03, (byte) 0xCC});
        ram.write(stage(Access.Kind.WRITE, Access.Mode.USER), new byte[]{0x48, (byte) 0x89, 0x03, (byte) 0xCC});
        ram.write(stage(Access.Kind.FETCH, Access.Mode.USER), new byte[]{(byte) 0xFF, (byte) 0xE3});
        ram.write(TO_USER, new byte[]{
                0x6A, 0x1B,                                     // push 0x1b (SS)
                0x68, (byte) 0xF0, 0x2F, 0x01, 0x00,            // push 0x12ff0 (RSP)
                0x6A, 0x02,                                     // push 2 (RFLAGS)
                0x6A, 0x23,                                     // push 0x23 (CS)
                0x41, 0x56,                                     // push r14 (RIP: the user stage)
                0x48, (byte) 0xCF});                            // iretq
        ram.write(SET_CR4, new byte[]{0x0F, 0x22, (byte) 0xE2, (byte) 0xCC}); // mov cr4, rdx ; int3
        for (long at = SCRATCH; at < RAM; at += 8) {
            ram.write64(at, at ^ SALT);
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
        machine.setRegister(X86Reg.CR3, PML4);
        machine.setRegister(X86Reg.CR4, machine.register(X86Reg.CR4) | CpuState.CR4_PAE);
        machine.engine().writeMsr(X86Reg.MSR_EFER, machine.engine().readMsr(X86Reg.MSR_EFER) | CpuState.EFER_NXE);
        machine.setRegister(X86Reg.CR0, machine.register(X86Reg.CR0) | CpuState.CR0_PG);
        machine.setRegister(X86Reg.RSP, KERNEL_STACK + 0xff0);
        RunResult setup = machine.run(KERNEL_CODE, RunLimits.budget(100));
        if (vector != ExceptionVector.BP) {
            machine.close();
            throw new IllegalStateException("the MMU harness did not reach ring 0 with its GDT: " + setup.detail());
        }
        kernelMode = machine.engine().contextSave();
    }

    private void mapHarness(long page, long flags) {
        machine.ram().write64(PT + 8 * (page >> 12), page | flags);
    }

    private static long stage(Access.Kind kind, Access.Mode mode) {
        return (mode == Access.Mode.USER ? USER_CODE : KERNEL_CODE + 0x100) + 0x10L * kind.ordinal();
    }

    GuestRam ram() {
        return machine.ram();
    }

    /**
     * Sets the paging controls and returns the mode the CPU actually took. CR4 is loaded by guest
     * code ({@code mov cr4}), as a kernel would: then the CPU drops bits its model lacks (SMAP on
     * Unicorn's default Haswell model), while a host-side CR4 write keeps them in the register
     * although the MMU ignores them.
     */
    PagingMode setControls(boolean writeProtect, boolean noExecute, boolean smep, boolean smap) {
        machine.engine().contextRestore(kernelMode);
        long cr0 = machine.register(X86Reg.CR0) & ~CpuState.CR0_WP;
        machine.setRegister(X86Reg.CR0, cr0 | (writeProtect ? CpuState.CR0_WP : 0));
        long cr4 = machine.register(X86Reg.CR4) & ~(PagingMode.CR4_SMEP | PagingMode.CR4_SMAP);
        machine.setRegister(X86Reg.RDX, cr4 | (smep ? PagingMode.CR4_SMEP : 0) | (smap ? PagingMode.CR4_SMAP : 0));
        vector = VECTOR_NONE;
        RunResult loaded = machine.run(SET_CR4, RunLimits.budget(10));
        if (vector != ExceptionVector.BP) {
            throw new IllegalStateException("mov cr4 failed: " + loaded.detail());
        }
        long efer = machine.engine().readMsr(X86Reg.MSR_EFER) & ~CpuState.EFER_NXE;
        machine.engine().writeMsr(X86Reg.MSR_EFER, efer | (noExecute ? CpuState.EFER_NXE : 0));
        return PagingMode.of(machine.register(X86Reg.CR0), machine.register(X86Reg.CR4),
                machine.engine().readMsr(X86Reg.MSR_EFER), machine.register(X86Reg.RFLAGS));
    }

    /** Performs {@code access} at {@code va} under the controls last set; RAX holds {@code stored} for a write. */
    Outcome perform(Access access, long va, long stored) {
        machine.flushTlb(); // the test rewrote page tables
        machine.engine().flushTranslationCache(); // and maybe the code a fetch runs
        vector = VECTOR_NONE;
        errorCode = -1;
        cr2 = 0;
        machine.setRegister(X86Reg.RBX, va);
        machine.setRegister(X86Reg.RAX, stored);
        long stage = stage(access.kind(), access.mode());
        machine.setRegister(X86Reg.R14, stage);
        RunResult result = machine.run(access.user() ? TO_USER : stage, RunLimits.budget(50));
        if (vector == VECTOR_NONE) {
            throw new IllegalStateException("the access ended without an exception: " + result.reason() + ", "
                    + result.detail());
        }
        return new Outcome(vector, errorCode, cr2, machine.register(X86Reg.RAX));
    }

    @Override
    public void close() {
        kernelMode.close();
        machine.close();
    }
}
