package dev.kemu.machine;

import dev.kemu.unicorn.Mmr;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.X86Reg;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * Delivers an exception to the guest's own handler the way the CPU would in 64-bit mode,
 * from inside the hook that reported it (Unicorn itself never uses the guest IDT; after a #UD
 * {@link Machine#run} restarts emulation at the handler): read the 16-byte gate ({@link IdtGate}),
 * pick the stack (the gate's IST entry from the TSS, else the current stack), align it to 16,
 * push SS, RSP, RFLAGS, CS, RIP and the error code, set CR2 for a #PF, clear IF for an
 * interrupt gate, and continue at the handler. A fault at CPL 3 switches to the TSS's
 * RSP0 (or the IST) stack and to kernel mode through {@link PrivilegeState}, which needs a
 * kernel-mode context remembered earlier ({@link Machine#rememberKernelMode()}).
 */
public final class ExceptionDelivery {
    private static final long RFLAGS_IF = 1L << 9, RFLAGS_TF = 1L << 8, RFLAGS_RF = 1L << 16;

    private ExceptionDelivery() {}

    /** Why delivery was impossible, or empty when the handler now runs (RIP, RSP, RFLAGS and CR2 are set). */
    public static Optional<String> deliver(Machine machine, CpuException exception) {
        Unicorn uc = machine.engine();
        CpuState cpu = machine.cpu();
        boolean fromUser = (cpu.cs() & 3) != 0;
        if (fromUser && machine.kernelCodeSelector() < 0) {
            return Optional.of("the fault happened at CPL 3 and no kernel-mode state was remembered to switch to");
        }
        IdtGate.Lookup lookup = exception.idtGate();
        if (lookup.gate().isEmpty()) {
            return Optional.of(lookup.problem());
        }
        IdtGate gate = lookup.gate().get();
        int kernelCs = fromUser ? machine.kernelCodeSelector() : cpu.cs();
        if (gate.selector() != kernelCs) {
            return Optional.of(String.format("the gate's selector 0x%x differs from the kernel's CS 0x%x; kemu delivers "
                    + "into the code segment the kernel runs in", gate.selector(), kernelCs));
        }
        long rsp = cpu.rsp();
        if (gate.ist() != 0 || fromUser) {
            // TSS: RSP0 at +4, IST1..7 at +0x24.
            Mmr tr = uc.readMmr(X86Reg.TR);
            long slot = gate.ist() != 0 ? 0x24 + 8L * (gate.ist() - 1) : 4;
            java.util.OptionalLong stack = machine.readVirtual64(tr.base() + slot);
            if (stack.isEmpty() || tr.limit() < slot + 7) {
                return Optional.of((gate.ist() != 0 ? "IST" + gate.ist() : "RSP0") + " of the TSS at V0x"
                        + Long.toHexString(tr.base()) + " is not readable (is a TSS loaded?)");
            }
            rsp = stack.getAsLong();
        }
        rsp &= ~0xfL;
        OptionalInt errorCode = exception.errorCode();
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
        if (exception.is(ExceptionVector.PF)) {
            uc.regWrite(X86Reg.CR2, exception.cr2());
        }
        long rflags = cpu.rflags() & ~(RFLAGS_TF | RFLAGS_RF);
        if (gate.interruptGate()) {
            rflags &= ~RFLAGS_IF;
        }
        uc.regWrite(X86Reg.RFLAGS, rflags);
        uc.regWrite(X86Reg.RSP, rsp);
        uc.regWrite(X86Reg.RIP, gate.handler());
        return Optional.empty();
    }
}
