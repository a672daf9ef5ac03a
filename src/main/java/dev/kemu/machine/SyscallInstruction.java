package dev.kemu.machine;

import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.UnicornException;
import dev.kemu.unicorn.X86Insn;
import dev.kemu.unicorn.X86Reg;

/**
 * The 64-bit {@code syscall} instruction as the CPU does it (SDM Vol. 2B, SYSCALL): RCX = the next
 * RIP, R11 = RFLAGS, RFLAGS &= ~IA32_FMASK, CS = STAR[47:32] and SS = STAR[47:32] + 8 at CPL 0,
 * RIP = IA32_LSTAR. Unicorn runs its UC_X86_INS_SYSCALL hooks instead of that transition and then
 * adds the instruction's length to RIP, so without this hook a {@code syscall} would do nothing.
 * The hook fires only on {@code syscall}, never per instruction. {@code sysretq} and {@code iretq}
 * are Unicorn's own and need nothing here.
 *
 * <p>Departures, each stopping the run AT the {@code syscall} with a message instead of a silent
 * wrong answer: a syscall with EFER.SCE clear or outside 64-bit mode, compatibility mode included
 * (the CPU raises #UD), and one whose STAR CS differs from the code segment of the remembered kernel
 * mode (kemu enters CPL 0 through that mode's CS cache, see {@link PrivilegeState}). SS is loaded from
 * the GDT entry STAR names rather than set to the fixed flat descriptor the CPU uses, so that entry
 * must be a present, writable ring-0 data segment; it is checked before anything changes. A syscall
 * at CPL 0 keeps CS and SS as they are.
 */
final class SyscallInstruction {
    static final int MSR_STAR = 0xc000_0081, MSR_LSTAR = 0xc000_0082, MSR_FMASK = 0xc000_0084;
    static final long EFER_SCE = 1;
    /** RFLAGS bit 1 always reads as one; RF is cleared by the transition. */
    private static final long RFLAGS_FIXED = 1L << 1, RFLAGS_RF = 1L << 16;
    /** Descriptor bits of a usable SS: present, code/data (S), writable data, DPL 0. */
    private static final long DESC_PRESENT = 1L << 47, DESC_S = 1L << 44, DESC_CODE = 1L << 43, DESC_WRITABLE = 1L << 41,
            DESC_DPL = 3L << 45;

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
        int length = length(machine.readVirtual(rip, 15));
        long efer = machine.msr(X86Reg.MSR_EFER);
        if ((efer & EFER_SCE) == 0) {
            stop(rip, length, "EFER.SCE is clear, so the CPU raises #UD; kemu stops here instead (set EFER.SCE, "
                    + "bit 0, before using syscall)");
            return;
        }
        if ((efer & CpuState.EFER_LMA) == 0) {
            stop(rip, length, "outside long mode kemu implements no syscall (the legacy form is AMD's only)");
            return;
        }
        if (!machine.runs64BitCode()) {
            stop(rip, length, "in compatibility mode (CS.L clear) the CPU raises #UD; kemu stops here instead");
            return;
        }
        long star = machine.msr(MSR_STAR);
        int kernelCs = (int) (star >>> 32) & 0xfffc;
        int cpl = (int) machine.register(X86Reg.CS) & 3;
        if (cpl != 0) {
            int remembered = machine.kernelCodeSelector();
            if (remembered < 0 || (remembered & 0xfffc) != kernelCs) {
                stop(rip, length, String.format("STAR selects kernel CS 0x%x but the kernel runs in CS %s; kemu "
                        + "enters CPL 0 through the code segment the kernel runs in", kernelCs,
                        remembered < 0 ? "(not known yet)" : String.format("0x%x", remembered)));
                return;
            }
            String badStack = unusableStackSegment(kernelCs + 8);
            if (badStack != null) {
                stop(rip, length, String.format("the GDT entry of SS 0x%x (STAR[47:32] + 8) %s; kemu loads it in place "
                        + "of the CPU's fixed flat SS, so it must be a present writable ring-0 data segment",
                        kernelCs + 8, badStack));
                return;
            }
            machine.enterKernelMode(PrivilegeState.KernelStack.NULL_SELECTOR);
            try {
                machine.setRegister(X86Reg.SS, kernelCs + 8); // now at CPL 0: the GDT's kernel data segment
            } catch (UnicornException e) {
                // Checked above, so only a GDT that changed under us gets here; the CPU is at CPL 0 by now.
                stop(rip, length, String.format("loading SS 0x%x failed after the switch to CPL 0 (%s)", kernelCs + 8,
                        e.getMessage()));
                return;
            }
        }
        long rflags = machine.register(X86Reg.RFLAGS);
        machine.setRegister(X86Reg.RCX, rip + length);
        machine.setRegister(X86Reg.R11, rflags & ~RFLAGS_RF);
        machine.setRegister(X86Reg.RFLAGS, (rflags & ~machine.msr(MSR_FMASK) & ~RFLAGS_RF) | RFLAGS_FIXED);
        machine.setRegister(X86Reg.RIP, machine.msr(MSR_LSTAR) - length); // Unicorn adds the length back
    }

    /** Why the GDT entry {@code selector} cannot be SS at CPL 0, or null when it can. */
    private String unusableStackSegment(int selector) {
        DescriptorTable gdt = machine.gdt();
        int index = selector & ~7;
        if (index + 7 > gdt.limit()) {
            return String.format("lies past the GDT's limit 0x%x", gdt.limit());
        }
        var descriptor = machine.readVirtual64(gdt.base() + index);
        if (descriptor.isEmpty()) {
            return String.format("is not readable (GDT base 0x%x is not mapped)", gdt.base());
        }
        long d = descriptor.getAsLong();
        if ((d & DESC_PRESENT) == 0) {
            return "is not present";
        }
        if ((d & DESC_S) == 0 || (d & DESC_CODE) != 0 || (d & DESC_WRITABLE) == 0) {
            return String.format("is not a writable data segment (descriptor 0x%016x)", d);
        }
        if ((d & DESC_DPL) != 0) {
            return String.format("has DPL %d, not 0", (d & DESC_DPL) >>> 45);
        }
        return null;
    }

    /**
     * The length of the {@code syscall} at the start of {@code bytes}: legacy and REX prefixes, then 0F 05.
     * Unicorn steps over all of it, and the return address in RCX is past all of it.
     */
    static int length(byte[] bytes) {
        int at = 0;
        while (at < bytes.length - 1 && isPrefix(bytes[at] & 0xff)) {
            at++;
        }
        return at + 2;
    }

    private static boolean isPrefix(int b) {
        return switch (b) {
            case 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 -> true;
            default -> b >= 0x40 && b <= 0x4f; // REX
        };
    }

    /** Stops the run with RIP on the {@code syscall}, where a #UD would leave it, not past it. */
    private void stop(long rip, int length, String why) {
        machine.setRegister(X86Reg.RIP, rip - length);
        machine.requestStop(StopReason.HOST_REQUEST, 0, String.format("syscall at 0x%x: %s", rip, why));
    }
}
