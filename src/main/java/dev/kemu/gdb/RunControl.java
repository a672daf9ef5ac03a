package dev.kemu.gdb;

import dev.kemu.machine.CpuException;
import dev.kemu.machine.ExceptionVector;
import dev.kemu.machine.Machine;
import dev.kemu.machine.RunLimits;
import dev.kemu.machine.RunResult;
import dev.kemu.machine.StopReason;
import dev.kemu.traps.TrapRouter;
import dev.kemu.unicorn.X86Reg;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the guest for the debugger: one instruction, or until a breakpoint, a watchpoint, a fault,
 * the exit port or an interrupt. Breakpoints are single-address code hooks, so guest memory is
 * never patched; watchpoints hook the physical pages behind their virtual range while the guest
 * runs. A fault kemu's services do not resolve stops here before the fault policy acts; the next
 * resume lets that same fault through, into the guest's handler when it has one.
 */
final class RunControl {
    private final Machine machine;
    private final Map<Long, Machine.Subscription> breakpoints = new LinkedHashMap<>();
    private final List<Watchpoint> watchpoints = new ArrayList<>();
    private boolean stepping;
    private Long breakpointHit;
    private Watchpoint watchHit;
    private long watchHitAddress;
    private volatile boolean running;
    private volatile boolean interruptRequested;
    /** The fault the guest stopped at; the next run lets it through ({@link #passing}). */
    private CpuException heldFault;
    private CpuException passing;
    private boolean exited;
    private boolean halted;

    RunControl(Machine machine, TrapRouter traps, long firstInstruction) {
        this.machine = machine;
        machine.setRegister(X86Reg.RIP, firstInstruction);
        traps.interceptUnresolved(this::stopsAt);
    }

    private boolean stopsAt(CpuException exception) {
        if (passing != null && passing.vector() == exception.vector() && passing.rip() == exception.rip()) {
            passing = null;
            return false;
        }
        heldFault = exception;
        return true;
    }

    long rip() {
        return machine.register(X86Reg.RIP);
    }

    boolean exited() {
        return exited;
    }

    boolean hasBreakpoint(long address) {
        return breakpoints.containsKey(address);
    }

    boolean insertBreakpoint(long address) {
        breakpoints.computeIfAbsent(address, at -> machine.onInstructionAt(at, () -> onBreakpoint(at)));
        return true;
    }

    boolean removeBreakpoint(long address) {
        Machine.Subscription hook = breakpoints.remove(address);
        if (hook != null) {
            hook.close();
        }
        return true;
    }

    void insertWatchpoint(Watchpoint watchpoint) {
        if (!watchpoints.contains(watchpoint)) {
            watchpoints.add(watchpoint);
        }
    }

    void removeWatchpoint(Watchpoint watchpoint) {
        watchpoints.remove(watchpoint);
    }

    /** From the connection's reader thread: a Ctrl-C. */
    void interrupt() {
        interruptRequested = true;
        if (running) {
            machine.interrupt();
        }
    }

    private void onBreakpoint(long address) {
        if (!stepping) {
            breakpointHit = address;
            machine.requestStop(StopReason.HOST_REQUEST, 0, "breakpoint");
        }
    }

    /** Executes one instruction (breakpoints at the current one do not fire). */
    StopEvent step() {
        return run(true);
    }

    /** Runs until something stops the guest; first steps off a breakpoint at the current instruction. */
    StopEvent resume() {
        if (breakpoints.containsKey(rip())) {
            StopEvent first = run(true);
            if (!first.plainStep()) {
                return first;
            }
            if (breakpoints.containsKey(rip())) {
                return StopEvent.withReason(StopEvent.SIGTRAP, "swbreak:;", "");
            }
        }
        return run(false);
    }

    private StopEvent run(boolean singleStep) {
        if (exited) {
            return StopEvent.exit(0, "the guest has already ended");
        }
        if (halted) {
            exited = true;
            return StopEvent.exit(0, "the guest halted with nothing left to run");
        }
        passing = heldFault;
        heldFault = null;
        breakpointHit = null;
        watchHit = null;
        stepping = singleStep;
        List<Machine.Subscription> watchHooks = armWatchpoints();
        running = true;
        RunResult result;
        try {
            if (interruptRequested && !singleStep) {
                interruptRequested = false;
                return StopEvent.signal(StopEvent.SIGINT, "");
            }
            result = singleStep ? machine.step(rip()) : machine.run(rip(), RunLimits.UNCOUNTED);
        } finally {
            running = false;
            stepping = false;
            passing = null;
            watchHooks.forEach(Machine.Subscription::close);
        }
        return classify(result, singleStep);
    }

    private List<Machine.Subscription> armWatchpoints() {
        List<Machine.Subscription> hooks = new ArrayList<>();
        for (Watchpoint watchpoint : watchpoints) {
            for (long va = watchpoint.address(); va < watchpoint.address() + watchpoint.length(); ) {
                long pageEnd = (va | 0xfff) + 1;
                long end = Math.min(pageEnd, watchpoint.address() + watchpoint.length());
                long physical = machine.physical(va);
                if (physical >= 0) {
                    long virtualBase = va - physical;
                    hooks.add(machine.onMemoryAccess(physical, physical + (end - va) - 1,
                            watchpoint.kind() != Watchpoint.Kind.WRITE, watchpoint.kind() != Watchpoint.Kind.READ,
                            (write, address, size, value) -> onWatched(watchpoint, write, virtualBase + address)));
                }
                va = end;
            }
        }
        if (!hooks.isEmpty()) {
            // A memory hook cannot stop before the rest of its translated block runs; the next
            // instruction's code hook can, so the guest stops right after the access.
            hooks.add(machine.onEachInstruction(rip -> {
                if (watchHit != null) {
                    machine.requestStop(StopReason.HOST_REQUEST, 0, "watchpoint");
                }
            }));
        }
        return hooks;
    }

    private void onWatched(Watchpoint watchpoint, boolean write, long address) {
        if (watchHit == null && watchpoint.kind().matches(write)) {
            watchHit = watchpoint;
            watchHitAddress = address;
        }
    }

    private StopEvent classify(RunResult result, boolean singleStep) {
        boolean interrupted = interruptRequested;
        interruptRequested = false;
        if (watchHit != null && result.reason() != StopReason.UNHANDLED_EXCEPTION) {
            return StopEvent.withReason(StopEvent.SIGTRAP,
                    String.format("%s:%x;", watchHit.kind().stopReason(), watchHitAddress), "");
        }
        return switch (result.reason()) {
            case BUDGET_EXHAUSTED, REACHED_END -> StopEvent.signal(StopEvent.SIGTRAP, "");
            case HOST_REQUEST -> breakpointHit != null ? StopEvent.withReason(StopEvent.SIGTRAP, "swbreak:;", "")
                    : StopEvent.signal(interrupted ? StopEvent.SIGINT : StopEvent.SIGTRAP, result.detail());
            case UNHANDLED_EXCEPTION -> {
                if (heldFault == null) { // let through, and the fault policy stopped it (no handler, triple fault)
                    yield StopEvent.signal(signalFor(result.vector()), result.detail()
                            + ": stopped by the fault policy (`monitor fault` shows the report)");
                }
                yield StopEvent.signal(signalFor(result.vector()), ExceptionVector.describe(result.vector())
                        + " at RIP " + String.format("0x%x", heldFault.rip()) + " (not yet delivered; `monitor fault` "
                        + "shows the report, `continue` delivers it to the guest)");
            }
            case EXIT_PORT -> {
                exited = true;
                yield StopEvent.exit(result.exitCode() << 1 | 1, "the guest wrote " + result.exitCode()
                        + " to the exit port (status " + (result.exitCode() << 1 | 1) + ", as QEMU's isa-debug-exit)");
            }
            case HALTED -> {
                halted = true;
                yield StopEvent.signal(StopEvent.SIGTRAP, "the guest halted (" + result.detail()
                        + "); `continue` ends the session");
            }
            default -> {
                exited = !singleStep && result.reason() == StopReason.EMULATION_ERROR;
                yield StopEvent.signal(StopEvent.SIGSEGV, result.reason() + ": " + result.detail());
            }
        };
    }

    /** The signal gdb shows for a CPU exception, as a Unix kernel would send it. */
    static int signalFor(int vector) {
        if (vector == ExceptionVector.UD) {
            return StopEvent.SIGILL;
        }
        if (vector == ExceptionVector.DE || vector == 16 || vector == 19) {
            return StopEvent.SIGFPE;
        }
        if (vector == 1 || vector == 3) {
            return StopEvent.SIGTRAP;
        }
        return StopEvent.SIGSEGV;
    }
}
