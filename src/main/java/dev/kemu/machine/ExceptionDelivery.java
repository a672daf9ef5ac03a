package dev.kemu.machine;

import dev.kemu.unicorn.Mmr;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.X86Reg;

import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Delivers an exception to the guest's own handler the way the CPU would, from inside the hook
 * that reported it (Unicorn itself never uses the guest IDT; a handled #UD runs on in the same
 * emulation; an external interrupt comes from the run loop between quanta,
 * {@link CpuException#external()}, with no error code). Long mode: the 16-byte gate, the stack from the gate's
 * IST entry or, from CPL 3, the TSS's RSP0, aligned to 16, and SS, RSP, RFLAGS, CS, RIP and the
 * error code pushed. Protected mode: the 8-byte gate, from CPL 3 the TSS's SS0:ESP0 and the old
 * SS:ESP pushed first, then EFLAGS, CS, EIP and the error code. Either way CR2 is set for a
 * #PF, TF, NT, RF and VM are cleared, IF too for an interrupt gate, and RIP moves to the handler.
 * Entering CPL 0 from CPL 3 goes through {@link PrivilegeState}, which needs a kernel-mode
 * context remembered earlier ({@link Machine#rememberKernelMode()}).
 *
 * <p>What the CPU would raise on the way (no gate, an unwritable stack, a TSS too small) comes
 * back as {@link DeliveryResult.Faulted}, for the caller to apply the double-fault rules; the
 * guest's registers are unchanged then, except CR2 for a #PF, which the CPU sets when it raises it.
 */
public final class ExceptionDelivery {
    private static final long RFLAGS_IF = CpuState.RFLAGS_IF, RFLAGS_TF = 1L << 8, RFLAGS_NT = 1L << 14, RFLAGS_RF = 1L << 16,
            RFLAGS_VM = 1L << 17;
    /** TSS offsets: 64-bit RSP0 and IST1; 32-bit ESP0 and SS0. */
    private static final int TSS64_RSP0 = 4, TSS64_IST1 = 0x24, TSS32_ESP0 = 4, TSS32_SS0 = 8;

    private ExceptionDelivery() {}

    public static DeliveryResult deliver(Machine machine, CpuException exception) {
        DeliveryResult result = attempt(machine, exception);
        if (result instanceof DeliveryResult.Faulted fault && fault.vector() == ExceptionVector.PF) {
            machine.engine().regWrite(X86Reg.CR2, fault.cr2());
        }
        return result;
    }

    private static DeliveryResult attempt(Machine machine, CpuException exception) {
        CpuState cpu = machine.cpu();
        boolean longMode = cpu.longModeActive();
        if (!longMode && !cpu.protectedMode()) {
            return new DeliveryResult.Unsupported("the CPU is in real mode; kemu delivers through protected-mode "
                    + "and long-mode IDTs only");
        }
        if (!longMode && cpu.pagingEnabled()) {
            return new DeliveryResult.Unsupported("protected mode with paging on: kemu's page walker reads 4-level "
                    + "(long-mode) tables only, so it delivers in protected mode with paging off");
        }
        IdtGate.Lookup lookup = IdtGate.read(machine, cpu.idtr(), exception.vector(), longMode);
        if (lookup.gate().isEmpty()) {
            return lookup.failure();
        }
        IdtGate gate = lookup.gate().get();
        boolean fromUser = (cpu.cs() & 3) != 0;
        if (fromUser && machine.kernelCodeSelector() < 0) {
            return new DeliveryResult.Unsupported("the fault happened at CPL 3 and no kernel-mode state was "
                    + "remembered to switch to");
        }
        int kernelCs = fromUser ? machine.kernelCodeSelector() : cpu.cs();
        if (gate.selector() != kernelCs) {
            return new DeliveryResult.Unsupported(String.format("the gate's selector 0x%x differs from the kernel's "
                    + "CS 0x%x; kemu delivers into the code segment the kernel runs in", gate.selector(), kernelCs));
        }
        Optional<DeliveryResult> pushed = longMode ? pushLongModeFrame(machine, cpu, gate, exception, fromUser)
                : pushProtectedModeFrame(machine, cpu, gate, exception, fromUser);
        if (pushed.isPresent()) {
            return pushed.get();
        }
        return new DeliveryResult.Delivered(gate);
    }

    private static Optional<DeliveryResult> pushLongModeFrame(Machine machine, CpuState cpu, IdtGate gate,
                                                              CpuException exception, boolean fromUser) {
        long rsp = cpu.rsp();
        if (gate.ist() != 0 || fromUser) {
            int slot = gate.ist() != 0 ? TSS64_IST1 + 8 * (gate.ist() - 1) : TSS64_RSP0;
            Optional<Long> stack = tssField(machine, slot, 8);
            if (stack.isEmpty()) {
                return Optional.of(tssFailure(machine, slot, 8, gate.ist() != 0 ? "IST" + gate.ist() : "RSP0"));
            }
            rsp = stack.get();
        }
        ExceptionFrame frame = new ExceptionFrame(machine, cpu, 8, rsp & ~0xfL);
        Optional<DeliveryResult> failure = frame.push(cpu.ss(), cpu.rsp(), cpu.rflags(), cpu.cs(), cpu.rip());
        if (failure.isEmpty() && exception.errorCode().isPresent()) {
            failure = frame.push(Integer.toUnsignedLong(exception.errorCode().getAsInt()));
        }
        if (failure.isPresent()) {
            return failure;
        }
        if (fromUser && !machine.enterKernelMode(PrivilegeState.KernelStack.NULL_SELECTOR)) {
            return Optional.of(new DeliveryResult.Unsupported("no kernel-mode state to switch to"));
        }
        enterHandler(machine, cpu, gate, exception, frame.pointer());
        return Optional.empty();
    }

    private static Optional<DeliveryResult> pushProtectedModeFrame(Machine machine, CpuState cpu, IdtGate gate,
                                                                   CpuException exception, boolean fromUser) {
        long esp = cpu.rsp() & 0xffff_ffffL;
        if (fromUser) {
            Optional<Long> espZero = tssField(machine, TSS32_ESP0, 4);
            Optional<Long> ssZero = tssField(machine, TSS32_SS0, 2);
            if (espZero.isEmpty() || ssZero.isEmpty()) {
                return Optional.of(tssFailure(machine, TSS32_SS0, 2, "SS0:ESP0"));
            }
            int kernelSs = machine.kernelStackSelector();
            if (ssZero.get() != kernelSs) {
                return Optional.of(new DeliveryResult.Unsupported(String.format("the TSS's SS0 0x%x differs from "
                        + "the kernel's SS 0x%x; kemu switches to the stack segment the kernel runs with",
                        ssZero.get(), kernelSs)));
            }
            esp = espZero.get();
        }
        ExceptionFrame frame = new ExceptionFrame(machine, cpu, 4, esp);
        Optional<DeliveryResult> failure = fromUser ? frame.push(cpu.ss(), cpu.rsp() & 0xffff_ffffL) : Optional.empty();
        if (failure.isEmpty()) {
            failure = frame.push(cpu.rflags() & 0xffff_ffffL, cpu.cs(), cpu.rip() & 0xffff_ffffL);
        }
        if (failure.isEmpty() && exception.errorCode().isPresent()) {
            failure = frame.push(Integer.toUnsignedLong(exception.errorCode().getAsInt()));
        }
        if (failure.isPresent()) {
            return failure;
        }
        if (fromUser && !machine.enterKernelMode(PrivilegeState.KernelStack.KERNEL_SELECTOR)) {
            return Optional.of(new DeliveryResult.Unsupported("no kernel-mode state to switch to"));
        }
        enterHandler(machine, cpu, gate, exception, frame.pointer());
        return Optional.empty();
    }

    private static void enterHandler(Machine machine, CpuState cpu, IdtGate gate, CpuException exception, long sp) {
        Unicorn uc = machine.engine();
        if (exception.is(ExceptionVector.PF) && !exception.external()) {
            uc.regWrite(X86Reg.CR2, exception.cr2());
        }
        long rflags = cpu.rflags() & ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM);
        if (gate.interruptGate()) {
            rflags &= ~RFLAGS_IF;
        }
        uc.regWrite(X86Reg.RFLAGS, rflags);
        uc.regWrite(X86Reg.RSP, sp);
        uc.regWrite(X86Reg.RIP, gate.handler());
    }

    /** A field of the loaded TSS, or empty when TR's limit does not cover it or its page is not mapped. */
    private static Optional<Long> tssField(Machine machine, int offset, int size) {
        Mmr tr = machine.engine().readMmr(X86Reg.TR);
        if (Integer.toUnsignedLong(tr.limit()) < offset + size - 1L) {
            return Optional.empty();
        }
        OptionalLong word = machine.readVirtual64(tr.base() + offset);
        if (word.isEmpty()) {
            return Optional.empty();
        }
        long mask = size == 8 ? -1L : (1L << (8 * size)) - 1;
        return Optional.of(word.getAsLong() & mask);
    }

    /** What the CPU raises for an unusable TSS field: #TS(TR) past its limit (as QEMU does), #PF if unmapped. */
    private static DeliveryResult tssFailure(Machine machine, int offset, int size, String name) {
        Mmr tr = machine.engine().readMmr(X86Reg.TR);
        if (Integer.toUnsignedLong(tr.limit()) < offset + size - 1L) {
            return new DeliveryResult.Faulted(ExceptionVector.TS, tr.selector() & 0xfffc, 0, String.format(
                    "%s of the TSS (selector 0x%x, limit 0x%x) is past its limit (is a TSS loaded?)", name,
                    tr.selector(), tr.limit()));
        }
        return new DeliveryResult.Faulted(ExceptionVector.PF, 0, tr.base() + offset, String.format(
                "%s of the TSS at V0x%x is not mapped", name, tr.base()));
    }
}
