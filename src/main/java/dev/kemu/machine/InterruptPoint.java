package dev.kemu.machine;

import dev.kemu.machine.interrupts.PcInterrupts;
import dev.kemu.machine.interrupts.TimedDevice;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.X86Reg;

import java.util.OptionalInt;

/**
 * The instruction boundary between two quanta, where the CPU looks at its INTR line: an interrupt is
 * taken when RFLAGS.IF is set and the last instruction was not {@code sti}, {@code mov ss} or
 * {@code pop ss} (the one-instruction interrupt shadow), through the guest's IDT like an exception
 * but with no error code and the interrupted instruction as the return address ({@link ExceptionDelivery}).
 * While an interrupt is pending but blocked by a clear IF, the instruction counter also watches for the
 * instructions that can set IF ({@code sti}, {@code popf}, {@code iret}, {@code sysret}) and ends the
 * quantum right after one, so the interrupt is taken at the first boundary where the CPU would take it.
 * A {@code hlt} with IF set sleeps: virtual time jumps to the next device deadline until something is
 * deliverable. With host time ({@link dev.kemu.machine.interrupts.ClockMode#HOST}) the quantum is not counted:
 * it ends at a host timer, the hlt waits in real time, and a blocked interrupt is polled for.
 */
final class InterruptPoint {
    /** Wake-ups without anything deliverable after which a sleeping hlt is declared stuck. */
    static final int MAX_FRUITLESS_WAKEUPS = 1_000_000;
    /** With host time, how soon an interrupt blocked by IF or a shadow is looked at again (uncounted, no sti is seen). */
    static final long HOST_POLL_NANOS = 100_000;

    private final RunLoop loop;
    private final Machine machine;
    private final Unicorn engine;
    private final InstructionCounter counter;
    private long rip;
    private long hostDeadline = TimedDevice.NEVER;

    InterruptPoint(RunLoop loop, Machine machine, Unicorn engine, InstructionCounter counter) {
        this.loop = loop;
        this.machine = machine;
        this.engine = engine;
        this.counter = counter;
    }

    /** Where the next quantum starts: {@code rip}, or the handler of an interrupt just delivered. */
    long rip() {
        return rip;
    }

    /** Delivers what is deliverable at {@code rip}; returns the instructions the next quantum may run. */
    long beforeQuantum(PcInterrupts interrupts, long rip) {
        this.rip = rip;
        counter.watchInterruptFlag(false);
        boolean hostTime = interrupts.clock().hostTime();
        hostDeadline = interrupts.nextDeadline();
        if (interrupts.pending()) {
            if (hostTime ? mayBeShadowed(rip) : shadowed(rip)) {
                return blocked(interrupts, 1); // the instruction after sti / mov ss runs first
            }
            if ((engine.regRead(X86Reg.RFLAGS) & CpuState.RFLAGS_IF) == 0) {
                return blocked(interrupts, untilDeadline(interrupts));
            }
            deliver(interrupts);
            if (interrupts.pending()) {
                return blocked(interrupts, untilDeadline(interrupts)); // the handler runs with IF clear (an interrupt gate) or set
            }
        }
        return untilDeadline(interrupts);
    }

    /**
     * An interrupt waits for IF or the end of a shadow. Counted, the counter stops right after the instruction
     * that opens it; with host time nothing is counted, and the host timer looks again {@link #HOST_POLL_NANOS} later.
     */
    private long blocked(PcInterrupts interrupts, long instructions) {
        if (interrupts.clock().hostTime()) {
            hostDeadline = Math.min(hostDeadline, interrupts.clock().now() + HOST_POLL_NANOS);
            return Long.MAX_VALUE;
        }
        counter.watchInterruptFlag(true);
        return instructions;
    }

    /** With host time: the clock time at which the host timer should end the next quantum. */
    long hostDeadline() {
        return hostDeadline;
    }

    private static long untilDeadline(PcInterrupts interrupts) {
        return interrupts.clock().instructionsUntil(interrupts.nextDeadline());
    }

    /**
     * Uncounted, the last instruction is unknown: the bytes before {@code rip} that would be an sti, a pop ss or
     * a register mov ss. A byte that only looks like one delays the interrupt by one poll.
     */
    private boolean mayBeShadowed(long rip) {
        byte[] code = machine.readVirtual(rip - 2, 2);
        if (code.length < 2) {
            return false;
        }
        int last = code[1] & 0xff;
        return last == 0xfb || last == 0x17 || (code[0] & 0xff) == 0x8e && (last & 0xf8) == 0xd0;
    }

    /** The last instruction that ran opened an interrupt shadow (sti, mov ss, pop ss) ending at {@code rip}. */
    private boolean shadowed(long rip) {
        long last = counter.lastAddress();
        if (last == InstructionCounter.NONE) {
            return false;
        }
        byte[] code = machine.readVirtual(last, 2);
        if (code.length < 1) {
            return false;
        }
        int opcode = code[0] & 0xff;
        return opcode == 0xfb && rip == last + 1 // sti
                || opcode == 0x17 && rip == last + 1 // pop ss (32-bit code)
                || opcode == 0x8e && code.length > 1 && (code[1] & 0x38) == 0x10; // mov ss, r/m
    }

    private void deliver(PcInterrupts interrupts) {
        int vector = interrupts.acknowledge();
        if (vector < 0) {
            return;
        }
        CpuException interrupt = CpuException.external(vector, rip, (int) engine.regRead(X86Reg.CS) & 3, machine);
        DeliveryResult result = ExceptionDelivery.deliver(machine, interrupt);
        if (result instanceof DeliveryResult.Delivered) {
            rip = engine.regRead(X86Reg.RIP);
            return;
        }
        loop.stopOnUndeliverable(vector, String.format("external interrupt vector %d (0x%x) at RIP 0x%x could not be "
                + "delivered: %s; the CPU would raise %s, kemu stops here instead", vector, vector, rip,
                result.problem(), result instanceof DeliveryResult.Faulted f ? ExceptionVector.describe(f.vector())
                        : "nothing it emulates"));
    }

    /**
     * A hlt just ran. With IF clear, false: the run ends halted, as before. With IF set, sleeps (virtual
     * time jumps from deadline to deadline) until an interrupt is deliverable and returns true; false
     * after stopping the run when nothing can ever wake the CPU.
     */
    boolean sleep(PcInterrupts interrupts, long hltAddress, long wallDeadline) {
        if ((engine.regRead(X86Reg.RFLAGS) & CpuState.RFLAGS_IF) == 0) {
            return false;
        }
        for (int wakeups = 0; !interrupts.pending(); wakeups++) {
            long deadline = interrupts.nextDeadline();
            if (deadline == TimedDevice.NEVER) {
                loop.requestStop(StopReason.HALTED, 0, String.format("hlt at 0x%x with interrupts enabled and no "
                        + "timer armed: nothing can wake the CPU", hltAddress));
                return false;
            }
            if (wakeups >= MAX_FRUITLESS_WAKEUPS) {
                loop.requestStop(StopReason.HALTED, 0, String.format("hlt at 0x%x with interrupts enabled: %d timer "
                        + "events woke nothing deliverable (masked at the PIC, the APIC or its LVT?)", hltAddress,
                        wakeups));
                return false;
            }
            if (!interrupts.clock().sleepUntil(deadline, wallDeadline)) {
                return false; // host time: the run's wall-clock limit came first
            }
            interrupts.advance();
        }
        return true;
    }
}
