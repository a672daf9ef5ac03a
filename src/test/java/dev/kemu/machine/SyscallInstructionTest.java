package dev.kemu.machine;

import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The syscall transition on a bare 64-bit machine at CPL 0 (the ring-3 entry is exercised by the
 * process kernel, ProcessKernelTest): RCX, R11, the masked RFLAGS and RIP = LSTAR, as the SDM says.
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
        }
    }
}
