package dev.kemu.machine;

import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The syscall transition, as the SDM says: RCX, R11, the masked RFLAGS and RIP = LSTAR on a bare
 * 64-bit machine at CPL 0; from ring 3, CPL 0 with STAR's CS and SS and back with sysretq, the live
 * CR0/CR4 state kept across the switch; refusals with a message (compatibility mode among them). The
 * process kernel (ProcessKernelTest) uses it end to end.
 */
class SyscallInstructionTest {
    // 0x1000: syscall ; 0x1002: hlt        0x2000 (LSTAR): mov rax, rcx ; hlt
    private static final byte[] CALLER = {0x0F, 0x05, (byte) 0xF4};
    private static final byte[] ENTRY = {0x48, (byte) 0x89, (byte) 0xC8, (byte) 0xF4};
    private static final long RFLAGS_DF = 1L << 10, RFLAGS_CF = 1;

    @Test
    void syscall_savesRipAndRflags_masksRflags_andJumpsToLstar() {
        try (Machine machine = new Machine(1 << 20)) {
            machine.ram().write(0x1000, CALLER);
            machine.ram().write(0x2000, ENTRY);
            machine.setMsr(X86Reg.MSR_EFER, machine.msr(X86Reg.MSR_EFER) | SyscallInstruction.EFER_SCE);
            machine.setMsr(SyscallInstruction.MSR_LSTAR, 0x2000);
            machine.setMsr(SyscallInstruction.MSR_STAR, 0x0010_0008L << 32);
            machine.setMsr(SyscallInstruction.MSR_FMASK, RFLAGS_DF);
            machine.setRegister(X86Reg.RFLAGS, 0x2 | RFLAGS_DF | RFLAGS_CF);

            RunResult result = machine.run(0x1000, RunLimits.budget(100));

            assertEquals(StopReason.HALTED, result.reason(), result.detail());
            assertEquals(0x2004, result.cpu().rip(), "halted in the LSTAR entry (RIP past its hlt), not after syscall");
            assertEquals(0x1002, result.cpu().rax(), "RCX: the instruction after syscall");
            assertEquals(0x2 | RFLAGS_DF | RFLAGS_CF, machine.register(X86Reg.R11), "R11: RFLAGS before");
            assertEquals(0x2 | RFLAGS_CF, result.cpu().rflags() & 0xfff, "RFLAGS with the FMASK bits cleared");
        }
    }

    @Test
    void syscall_withSceClear_stopsWithAMessageInsteadOfDoingNothing() {
        try (Machine machine = new Machine(1 << 20)) {
            machine.ram().write(0x1000, CALLER);
            machine.setMsr(X86Reg.MSR_EFER, machine.msr(X86Reg.MSR_EFER) & ~SyscallInstruction.EFER_SCE);

            RunResult result = machine.run(0x1000, RunLimits.budget(100));

            assertEquals(StopReason.HOST_REQUEST, result.reason(), result.detail());
            assertTrue(result.detail().contains("syscall at 0x1000: EFER.SCE is clear"), result.detail());
            assertEquals(0x1000, result.cpu().rip(), "stopped on the syscall, where the CPU's #UD leaves RIP");
        }
    }

    private static final long PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, KERNEL_CODE = 0x10000, ENTRY_VA = 0x12000,
            KERNEL_STACK = 0x14800, USER_CODE = 0x15000, USER_STACK = 0x15ff0, GDT = 0x16000, GDTR = GDT + 0x100;
    private static final long AFTER_SEGMENTS = KERNEL_CODE + FlatSegments.loadKernelSegments(GDTR).length;
    // user: syscall ; mov edx, cs        entry: mov eax, cs ; mov ebx, ss ; sysretq
    private static final byte[] USER = {0x0F, 0x05, (byte) 0x8C, (byte) 0xCA};
    private static final byte[] KERNEL_ENTRY = {(byte) 0x8C, (byte) 0xC8, (byte) 0x8C, (byte) 0xD3, 0x48, 0x0F, 0x07};

    /** Identity-mapped first 2 MiB (one user-accessible huge page), the flat GDT, in ring 0 after loading it. */
    private static Machine ring0Machine(long star) {
        Machine machine = new Machine(2 << 20);
        machine.ram().write64(PML4, PDPT | 7);
        machine.ram().write64(PDPT, PD | 7);
        machine.ram().write64(PD, 0x87); // P W U PS
        for (int i = 0; i < FlatSegments.GDT.length; i++) {
            machine.ram().write64(GDT + 8L * i, FlatSegments.GDT[i]);
        }
        machine.ram().write(GDTR, FlatSegments.gdtr(GDT));
        machine.ram().write(KERNEL_CODE, FlatSegments.concat(FlatSegments.loadKernelSegments(GDTR),
                FlatSegments.iretToUser(USER_CODE, USER_STACK)));
        machine.ram().write(USER_CODE, USER);
        machine.ram().write(ENTRY_VA, KERNEL_ENTRY);
        machine.setRegister(X86Reg.CR3, PML4);
        machine.setRegister(X86Reg.CR4, machine.register(X86Reg.CR4) | CpuState.CR4_PAE);
        machine.setRegister(X86Reg.CR0, machine.register(X86Reg.CR0) | CpuState.CR0_PG | CpuState.CR0_WP);
        machine.setRegister(X86Reg.RSP, KERNEL_STACK);
        machine.setMsr(X86Reg.MSR_EFER, machine.msr(X86Reg.MSR_EFER) | SyscallInstruction.EFER_SCE);
        machine.setMsr(SyscallInstruction.MSR_STAR, star);
        machine.setMsr(SyscallInstruction.MSR_LSTAR, ENTRY_VA);
        machine.setMsr(SyscallInstruction.MSR_FMASK, CpuState.RFLAGS_IF);
        RunResult segments = machine.run(KERNEL_CODE, AFTER_SEGMENTS, RunLimits.budget(100));
        assertEquals(StopReason.REACHED_END, segments.reason(), segments.detail());
        machine.rememberKernelMode(); // as KernelBoot does at kmain
        return machine;
    }

    @Test
    void syscall_fromRing3_entersLstarAtCpl0WithStarsSelectors_andSysretqReturns() {
        try (Machine machine = ring0Machine(0x0010_0008L << 32)) {
            RunResult result = machine.run(AFTER_SEGMENTS, USER_CODE + USER.length, RunLimits.budget(100));

            assertEquals(StopReason.REACHED_END, result.reason(), result.detail());
            assertEquals(0x08, result.cpu().rax(), "CS in the entry: STAR[47:32]");
            assertEquals(0x10, result.cpu().rbx(), "SS in the entry: STAR[47:32] + 8");
            assertEquals(USER_CODE + 2, result.cpu().rcx(), "RCX: the user instruction after syscall");
            assertEquals(0x2, machine.register(X86Reg.R11), "R11: the user RFLAGS iretq set");
            assertEquals(0x23, result.cpu().rdx(), "back in ring 3 after sysretq: STAR[63:48] + 16, RPL 3");
            assertEquals(0x1b, result.cpu().ss(), "user SS: STAR[63:48] + 8, RPL 3");
        }
    }

    @Test
    void syscall_fromRing3_withAStarCsOtherThanTheKernels_stopsNamingBoth() {
        try (Machine machine = ring0Machine(0x0010_0018L << 32)) {
            RunResult result = machine.run(AFTER_SEGMENTS, USER_CODE + USER.length, RunLimits.budget(100));

            assertEquals(StopReason.HOST_REQUEST, result.reason(), result.detail());
            assertEquals("syscall at 0x15000: STAR selects kernel CS 0x18 but the kernel runs in CS 0x8; kemu enters "
                    + "CPL 0 through the code segment the kernel runs in", result.detail());
        }
    }

    @Test
    void prefixedSyscall_returnsPastItsPrefixes_andEntersLstarItself() {
        try (Machine machine = new Machine(1 << 20)) {
            machine.ram().write(0x1000, new byte[] {0x48, 0x0F, 0x05, (byte) 0xF4}); // rex.w syscall ; hlt
            machine.ram().write(0x2000, ENTRY);
            machine.setMsr(X86Reg.MSR_EFER, machine.msr(X86Reg.MSR_EFER) | SyscallInstruction.EFER_SCE);
            machine.setMsr(SyscallInstruction.MSR_LSTAR, 0x2000);
            machine.setMsr(SyscallInstruction.MSR_STAR, 0x0010_0008L << 32);

            RunResult result = machine.run(0x1000, RunLimits.budget(100));

            assertEquals(StopReason.HALTED, result.reason(), result.detail());
            assertEquals(0x2004, result.cpu().rip(), "the whole entry ran: LSTAR itself, not a byte into it");
            assertEquals(0x1003, result.cpu().rax(), "RCX: past the REX prefix and 0F 05");
        }
    }

    @Test
    void syscall_fromRing3_withANotPresentKernelSs_stopsInRing3BeforeAnythingChanges() {
        try (Machine machine = ring0Machine(0x0010_0008L << 32)) {
            machine.ram().write64(GDT + 0x10, FlatSegments.GDT[2] & ~(1L << 47)); // SS 0x10 not present

            RunResult result = machine.run(AFTER_SEGMENTS, USER_CODE + USER.length, RunLimits.budget(100));

            assertEquals(StopReason.HOST_REQUEST, result.reason(), result.detail());
            assertTrue(result.detail().contains("the GDT entry of SS 0x10 (STAR[47:32] + 8) is not present"),
                    result.detail());
            assertEquals(USER_CODE, result.cpu().rip(), "on the syscall");
            assertEquals(0x23, result.cpu().cs(), "still in ring 3: the refusal changed nothing");
        }
    }

    @Test
    void syscall_fromA32BitCodeSegmentInLongMode_stopsOnItInsteadOfEnteringLstar() {
        try (Machine machine = ring0Machine(0x0010_0008L << 32)) {
            // User CS 0x23 becomes a 32-bit segment (L clear, D set): iretq lands in compatibility mode.
            machine.ram().write64(GDT + 0x20, 0x00cffa000000ffffL);

            RunResult result = machine.run(AFTER_SEGMENTS, USER_CODE + USER.length, RunLimits.budget(100));

            assertEquals(StopReason.HOST_REQUEST, result.reason(), result.detail());
            assertEquals("syscall at 0x15000: in compatibility mode (CS.L clear) the CPU raises #UD; kemu stops "
                    + "here instead", result.detail());
            assertEquals(USER_CODE, result.cpu().rip(), "on the syscall, where the CPU's #UD leaves RIP");
            assertEquals(0x23, result.cpu().cs(), "still in the 32-bit user segment");
        }
    }

    private static final long CR0_TS = 1L << 3, CR4_OSFXSR = 1L << 9;
    // LSTAR entry for the CR0/CR4 cases: movaps xmm0, xmm1 ; hlt
    private static final byte[] SSE_ENTRY = {0x0F, 0x28, (byte) 0xC1, (byte) 0xF4};

    /** A control-register change the kernel makes after kmain's context was remembered, and what it makes SSE raise. */
    enum LiveChange {
        CR0_TS_SET(X86Reg.CR0, CR0_TS, true, ExceptionVector.NM),
        CR4_OSFXSR_CLEAR(X86Reg.CR4, CR4_OSFXSR, false, ExceptionVector.UD);

        final int register;
        final long bit;
        final boolean set;
        final int vector;

        LiveChange(int register, long bit, boolean set, int vector) {
            this.register = register;
            this.bit = bit;
            this.set = set;
            this.vector = vector;
        }

        void apply(Machine machine) {
            long value = machine.register(register);
            machine.setRegister(register, set ? value | bit : value & ~bit);
        }
    }

    /** {@link #ring0Machine} with the SSE entry, kmain's context remembered with TS clear and OSFXSR set, then {@code change}. */
    private static Machine sseMachine(LiveChange change) {
        Machine machine = ring0Machine(0x0010_0008L << 32);
        machine.ram().write(ENTRY_VA, SSE_ENTRY);
        machine.setRegister(X86Reg.CR0, machine.register(X86Reg.CR0) & ~CR0_TS);
        machine.setRegister(X86Reg.CR4, machine.register(X86Reg.CR4) | CR4_OSFXSR);
        machine.rememberKernelMode(); // again: the remembered context now runs SSE without a fault
        change.apply(machine);
        return machine;
    }

    @ParameterizedTest
    @EnumSource(LiveChange.class)
    void syscall_fromRing3_keepsTheLiveCr0AndCr4_soSseFaultsInTheEntryAsItDoesWithoutASwitch(LiveChange change) {
        RunResult reference;
        try (Machine machine = sseMachine(change)) {
            reference = machine.run(ENTRY_VA, ENTRY_VA + SSE_ENTRY.length, RunLimits.budget(100)); // CPL 0, no switch
        }
        assertEquals(StopReason.UNHANDLED_EXCEPTION, reference.reason(), reference.detail());
        assertEquals(change.vector, reference.vector(), "the emulated CPU itself: " + reference.detail());
        assertEquals(ENTRY_VA, reference.cpu().rip());

        try (Machine machine = sseMachine(change)) {
            RunResult switched = machine.run(AFTER_SEGMENTS, USER_CODE + USER.length, RunLimits.budget(100));

            assertEquals(reference.reason(), switched.reason(), switched.detail());
            assertEquals(reference.vector(), switched.vector(), "after ring 3 -> syscall -> CPL 0: " + switched.detail());
            assertEquals(reference.cpu().rip(), switched.cpu().rip(), "the fault is on the movaps in the entry");
            assertEquals(0x08, switched.cpu().cs(), "taken at CPL 0, in the entry");
        }
    }
}
