package dev.kemu.machine;

import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.UnicornException;
import dev.kemu.unicorn.X86Insn;
import dev.kemu.unicorn.X86Reg;

/**
 * The 64-bit {@code syscall} instruction as the CPU does it (SDM Vol. 2B, SYSCALL): RCX = the next
 * RIP, R11 = RFLAGS, RFLAGS &= ~IA32_FMASK, CS = STAR[47:32] and SS = STAR[47:32] + 8 at CPL 0,
 * RIP = IA32_LSTAR. Unicorn runs its UC_X86_INS_SYSCALL hooks instead of that transition and then
 * steps over the instruction, so without this hook a {@code syscall} would do nothing at all.
 * The hook fires only on {@code syscall}, never per instruction. {@code sysretq} and {@code iretq}
 * are Unicorn's own and need nothing here.
 *
 * <p>Departures, each stopping the run with a message instead of a silent wrong answer: a syscall
 * with EFER.SCE clear or outside 64-bit mode (the CPU raises #UD), and one whose STAR CS differs from
 * the code segment of the remembered kernel mode (kemu enters CPL 0 through that mode's CS cache,
 * see {@link PrivilegeState}). SS is loaded from the GDT entry STAR names rather than set to the fixed
 * flat descriptor the CPU uses, so that entry must be a ring-0 data segment. A syscall at CPL 0 keeps
 * CS and SS as they are.
 */
final class SyscallInstruction {
    static final int MSR_STAR = 0xc000_0081, MSR_LSTAR = 0xc000_0082, MSR_FMASK = 0xc000_0084;
    static final long EFER_SCE = 1;
    /** Unicorn adds the instruction's length to RIP after the hook returns (helper_syscall). */
    private static final int SYSCALL_LENGTH = 2;
    /** RFLAGS bit 1 always reads as one; RF is cleared by the transition. */
    private static final long RFLAGS_FIXED = 1L << 1, RFLAGS_RF = 1L << 16;

    private final Machine machine;

    private SyscallInstruction(Machine machine) {
        this.machine = machine;
    }

    static void install(Machine machine, Unicorn engine) {
        SyscallInstruction syscall = new SyscallInstruction(machine);
        engine.hookSyscall(X86Insn.SYSCALL, uc -> syscall.enter());
    }

    private void enter() {
        long rip = machine.register(X86Reg.RIP);
        long efer = machine.msr(X86Reg.MSR_EFER);
        if ((efer & EFER_SCE) == 0) {
            stop(rip, "EFER.SCE is clear, so the CPU raises #UD; kemu stops here instead (set EFER.SCE, bit 0, "
                    + "before using syscall)");
            return;
        }
        if ((efer & CpuState.EFER_LMA) == 0) {
            stop(rip, "outside long mode kemu implements no syscall (the legacy form is AMD's only)");
            return;
        }
        long star = machine.msr(MSR_STAR);
        int kernelCs = (int) (star >>> 32) & 0xfffc;
        int cpl = (int) machine.register(X86Reg.CS) & 3;
        if (cpl != 0) {
            int remembered = machine.kernelCodeSelector();
            if (remembered < 0 || (remembered & 0xfffc) != kernelCs) {
                stop(rip, String.format("STAR selects kernel CS 0x%x but the kernel runs in CS %s; kemu enters "
                        + "CPL 0 through the code segment the kernel runs in", kernelCs,
                        remembered < 0 ? "(not known yet)" : String.format("0x%x", remembered)));
                return;
            }
            machine.enterKernelMode(PrivilegeState.KernelStack.NULL_SELECTOR);
            try {
                machine.setRegister(X86Reg.SS, kernelCs + 8); // now at CPL 0: the GDT's kernel data segment
            } catch (UnicornException e) {
                stop(rip, String.format("the GDT entry of SS 0x%x (STAR[47:32] + 8) is not a present writable ring-0 "
                        + "data segment, which kemu loads in its place of the CPU's fixed flat SS (%s)", kernelCs + 8,
                        e.getMessage()));
                return;
            }
        }
        long rflags = machine.register(X86Reg.RFLAGS);
        long next = rip + SYSCALL_LENGTH;
        machine.setRegister(X86Reg.RCX, next);
        machine.setRegister(X86Reg.R11, rflags & ~RFLAGS_RF);
        machine.setRegister(X86Reg.RFLAGS, (rflags & ~machine.msr(MSR_FMASK) & ~RFLAGS_RF) | RFLAGS_FIXED);
        machine.setRegister(X86Reg.RIP, machine.msr(MSR_LSTAR) - SYSCALL_LENGTH);
    }

    private void stop(long rip, String why) {
        machine.requestStop(StopReason.HOST_REQUEST, 0, String.format("syscall at 0x%x: %s", rip, why));
    }
}
