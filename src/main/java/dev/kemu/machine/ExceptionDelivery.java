package dev.kemu.machine;

import dev.kemu.unicorn.Mmr;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.X86Reg;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * Delivers an exception to the guest's own handler the way the CPU would in 64-bit mode,
 * from inside Unicorn's interrupt hook (Unicorn itself never uses the guest IDT): read the
 * 16-byte gate, pick the stack (the gate's IST entry from the TSS, else the current stack),
 * align it to 16, push SS, RSP, RFLAGS, CS, RIP and the error code, set CR2 for a #PF, clear
 * IF for an interrupt gate, and continue at the handler. A fault at CPL 3 switches to the TSS's
 * RSP0 (or the IST) stack and to kernel mode through {@link PrivilegeState}, which needs a
 * kernel-mode context remembered earlier ({@link Machine#rememberKernelMode()}).
 */
public final class ExceptionDelivery {
    private static final long RFLAGS_IF = 1L << 9, RFLAGS_TF = 1L << 8, RFLAGS_RF = 1L << 16;
    private static final int GATE_INTERRUPT = 0xE, GATE_TRAP = 0xF;

    private ExceptionDelivery() {}

    /** Why delivery was impossible, or empty when the handler now runs. */
    public static Optional<String> deliver(Machine machine, int vector, OptionalInt errorCode, long cr2) {
        Unicorn uc = machine.engine();
        CpuState cpu = machine.cpu();
        boolean fromUser = (cpu.cs() & 3) != 0;
        if (fromUser && machine.kernelCodeSelector() < 0) {
            return Optional.of("the fault happened at CPL 3 and no kernel-mode state was remembered to switch to");
        }
        DescriptorTable idtr = cpu.idtr();
        if (idtr.limit() < vector * 16L + 15) {
            return Optional.of(String.format("the IDT (limit 0x%x) has no gate for vector %d", idtr.limit(), vector));
        }
        java.util.OptionalLong gateLow = machine.readVirtual64(idtr.base() + vector * 16L);
        java.util.OptionalLong gateHigh = machine.readVirtual64(idtr.base() + vector * 16L + 8);
        if (gateLow.isEmpty() || gateHigh.isEmpty()) {
            return Optional.of("the IDT gate for vector " + vector + " is not mapped");
        }
        long low = gateLow.getAsLong();
        int type = (int) (low >>> 40) & 0xf;
        if ((low & (1L << 47)) == 0 || (type != GATE_INTERRUPT && type != GATE_TRAP)) {
            return Optional.of(String.format("the IDT gate for vector %d is not a present 64-bit gate (0x%016x)", vector, low));
        }
        long handler = (low & 0xffff) | ((low >>> 32) & 0xffff0000L) | (gateHigh.getAsLong() << 32);
        int selector = (int) (low >>> 16) & 0xffff;
        int ist = (int) (low >>> 32) & 7;
        int kernelCs = fromUser ? machine.kernelCodeSelector() : cpu.cs();
        if (selector != kernelCs) {
            return Optional.of(String.format("the gate's selector 0x%x differs from the kernel's CS 0x%x; kemu delivers "
                    + "into the code segment the kernel runs in", selector, kernelCs));
        }
        long rsp = cpu.rsp();
        if (ist != 0 || fromUser) {
            // TSS: RSP0 at +4, IST1..7 at +0x24.
            Mmr tr = uc.readMmr(X86Reg.TR);
            long slot = ist != 0 ? 0x24 + 8L * (ist - 1) : 4;
            java.util.OptionalLong stack = machine.readVirtual64(tr.base() + slot);
            if (stack.isEmpty() || tr.limit() < slot + 7) {
                return Optional.of((ist != 0 ? "IST" + ist : "RSP0") + " of the TSS at V0x" + Long.toHexString(tr.base())
                        + " is not readable (is a TSS loaded?)");
            }
            rsp = stack.getAsLong();
        }
        rsp &= ~0xfL;
        long[] frame = errorCode.isPresent()
                ? new long[]{cpu.ss(), cpu.rsp(), cpu.rflags(), cpu.cs(), cpu.rip(), Integer.toUnsignedLong(errorCode.getAsInt())}
                : new long[]{cpu.ss(), cpu.rsp(), cpu.rflags(), cpu.cs(), cpu.rip()};
        for (long value : frame) {
            rsp -= 8;
            if (!machine.writeVirtual64(rsp, value)) {
                return Optional.of(String.format("the exception frame cannot be pushed: stack V0x%x is not writable", rsp));
            }
        }
        if (fromUser && !machine.enterKernelMode()) {
            return Optional.of("no kernel-mode state to switch to");
        }
        if (vector == ExceptionVector.PF) {
            uc.regWrite(X86Reg.CR2, cr2);
        }
        long rflags = cpu.rflags() & ~(RFLAGS_TF | RFLAGS_RF);
        if (type == GATE_INTERRUPT) {
            rflags &= ~RFLAGS_IF;
        }
        uc.regWrite(X86Reg.RFLAGS, rflags);
        uc.regWrite(X86Reg.RSP, rsp);
        uc.regWrite(X86Reg.RIP, handler);
        return Optional.empty();
    }
}
