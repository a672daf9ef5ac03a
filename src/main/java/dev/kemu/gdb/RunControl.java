package dev.kemu.gdb;

import dev.kemu.machine.CpuException;
import dev.kemu.machine.ExceptionVector;
import dev.kemu.machine.Machine;
import dev.kemu.machine.RunLimits;
import dev.kemu.machine.RunResult;
import dev.kemu.machine.StopReason;
import dev.kemu.machine.smp.CpuSet;
import dev.kemu.traps.TrapRouter;
import dev.kemu.unicorn.X86Reg;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Runs the guest for the debugger, forwards and backwards. Forwards: one instruction, or until a
 * breakpoint, a watchpoint, a fault, the exit port or an interrupt. Breakpoints are
 * single-address code hooks, so guest memory is never patched; watchpoints hook the physical
 * pages behind their virtual range while the guest runs. A fault kemu's services do not resolve
 * stops here before the fault policy acts; the next run lets that same fault through.
 *
 * <p>Backwards: every run has an instruction budget, so the machine's native counter counts every
 * instruction (no Java call per instruction) and stops a run exactly at the next checkpoint or the
 * target of a replay; that gives each moment a time, and the {@link Timeline} restores the checkpoint
 * before a moment and executes the rest again. An instruction that a breakpoint or a fault stopped
 * before it ran is not counted: whether the counter saw it first is told by the last address it
 * counted (the two hooks may run in either order). A Ctrl-C is
 * looked for between two runs, which last at most {@link #POLL_INTERVAL} instructions.
 *
 * <p>Several CPUs (gdb's threads, see {@link CpuThreads}): all-stop. Forwards, the CPUs take their
 * round-robin turns here, one at a time, and the first that stops for a breakpoint, a watchpoint, a
 * fault or the exit port stops them all (the others are between two of their instructions); the next
 * continue goes on from that CPU. Breakpoints and watchpoints are hooked on every CPU. Backwards is one
 * CPU's: the history holds cpu0's instructions only, so it is refused with several.
 */
final class RunControl implements AutoCloseable {
    enum Mode { FORWARD, REPLAY, RECORDING }

    /** A moment found while recording: a breakpoint or watchpoint hit, and where to stop for it. */
    record Hit(long time, String reason) {}

    /** The widest single data access (an AVX-512 store), for matching accesses that start below a range. */
    private static final int MAX_ACCESS = 64;

    private final Machine machine;
    private final CpuSet cpus;
    private final TrapRouter traps;
    /** One code hook per address ever used and CPU: gdb removes and re-inserts every breakpoint at each stop,
     * and adding or removing a Unicorn hook drops all translated code, so removal only deactivates. */
    private final Map<Long, List<Machine.Subscription>> breakpointHooks = new LinkedHashMap<>();
    /** The CPU (0-based) that stopped last: the thread of the stop reply, and where a continue goes on. */
    private int stoppedCpu;
    private final java.util.Set<Long> breakpoints = new java.util.HashSet<>();
    /** The breakpoints gdb asked for as hardware ones (Z1): their hits are reported as {@code hwbreak}. */
    private final java.util.Set<Long> hardware = new java.util.HashSet<>();
    private final List<Watchpoint> watchpoints = new ArrayList<>();
    private final Timeline timeline;
    private Mode mode = Mode.FORWARD;
    private boolean stepping;
    private Long breakpointHit;
    /** The counter had counted the instruction of {@link #breakpointHit}, which did not run. */
    private boolean hitCounted;
    private Watchpoint watchHit;
    private long watchHitAddress;
    private final List<Hit> recorded = new ArrayList<>();
    /** The most instructions between two looks at the connection for a Ctrl-C (a few milliseconds). */
    private static final long POLL_INTERVAL = 1 << 20;
    private java.util.function.BooleanSupplier interruptWaiting = () -> false;
    /** Instructions executed since the session began (between runs; during one, see {@link #runTime()}). */
    private long now;
    /** {@link #now} when the run under way began: the counter counts from there. */
    private long runBase;
    /** A breakpoint hook stopped the run before the instruction it was called for. */
    private boolean cancelled;
    /** The last run ended at its instruction budget (a checkpoint, a replay's target or one step). */
    private boolean reachedTarget;
    /** The fault the guest stopped at; the next run lets it through ({@link #passing}). */
    private CpuException heldFault;
    private CpuException passing;
    private boolean exited;
    private boolean halted;

    RunControl(CpuSet cpus, TrapRouter traps, long firstInstruction) {
        this.machine = cpus.machine(0);
        this.cpus = cpus;
        this.traps = traps;
        machine.setRegister(X86Reg.RIP, firstInstruction);
        traps.interceptUnresolved(this::stopsAt, this::replaying);
        this.timeline = new Timeline(machine, 0);
    }

    /** The time during a run of cpu0: instructions before the run and those the counter has counted in it. */
    private long runTime() {
        return runBase + machine.instructionCount();
    }

    /** Stops the run of {@code cpu} (the machine whose hook is running) before its current instruction. */
    private void cancel(Machine cpu, String why) {
        if (!cancelled) {
            cancelled = true;
            cpu.requestStop(StopReason.HOST_REQUEST, 0, why);
        }
    }

    /** How many CPUs (gdb threads) the machine has. */
    int cpuCount() {
        return cpus.count();
    }

    /** The CPU that stopped last (0-based): the thread a stop reply names. */
    int stoppedCpu() {
        return stoppedCpu;
    }

    private boolean severalCpus() {
        return cpus.count() > 1;
    }

    /** Refuses what the history cannot do with several CPUs: it records cpu0 alone. */
    void requireOneCpu(String what) {
        if (severalCpus()) {
            throw new IllegalArgumentException(what + " needs --cpus 1: kemu's history records one CPU's "
                    + "instructions (this machine has " + cpus.count() + " CPUs)");
        }
    }

    private boolean stopsAt(CpuException exception) {
        if (mode != Mode.FORWARD) {
            return false; // a replay takes the path the first run took, which let it through
        }
        if (isTrap(exception)) {
            return false; // int3, into, int n: RIP is already past the instruction, so stopping would skip it
        }
        if (passing != null && passing.vector() == exception.vector() && passing.rip() == exception.rip()) {
            passing = null;
            return false;
        }
        heldFault = exception;
        return true;
    }

    /** Software interrupts and trap-type exceptions, reported with the RIP after their instruction. */
    private static boolean isTrap(CpuException exception) {
        return exception.vector() >= 32 || exception.is(ExceptionVector.BP) || exception.is(ExceptionVector.OF)
                || exception.is(ExceptionVector.DB);
    }

    long rip() {
        return machine.register(X86Reg.RIP);
    }

    long now() {
        return now;
    }

    boolean replaying() {
        return mode != Mode.FORWARD;
    }

    boolean hasBreakpoint(long address) {
        return breakpoints.contains(address);
    }

    void insertBreakpoint(long address) {
        insertBreakpoint(address, false);
    }

    /** A breakpoint; {@code hardwareKind} only changes how a hit is reported (both are code hooks). */
    void insertBreakpoint(long address, boolean hardwareKind) {
        breakpointHooks.computeIfAbsent(address, at -> {
            List<Machine.Subscription> hooks = new ArrayList<>();
            for (int id = 0; id < cpus.count(); id++) {
                Machine cpu = cpus.machine(id);
                hooks.add(cpu.onInstructionAt(at, () -> onBreakpoint(cpu, at)));
            }
            return hooks;
        });
        breakpoints.add(address);
        if (hardwareKind) {
            hardware.add(address);
        } else {
            hardware.remove(address);
        }
    }

    void removeBreakpoint(long address) {
        breakpoints.remove(address);
        hardware.remove(address);
    }

    private String hitReason(long address) {
        return hardware.contains(address) ? "hwbreak:;" : "swbreak:;";
    }

    void insertWatchpoint(Watchpoint watchpoint) {
        if (!watchpoints.contains(watchpoint)) {
            watchpoints.add(watchpoint);
        }
    }

    void removeWatchpoint(Watchpoint watchpoint) {
        watchpoints.remove(watchpoint);
    }

    /** How a run learns of a Ctrl-C: polled between runs, at least every {@link #POLL_INTERVAL} instructions. */
    void pollInterruptsWith(java.util.function.BooleanSupplier interruptWaiting) {
        this.interruptWaiting = interruptWaiting;
    }


    /** The debugger wrote registers or memory: what came before can no longer be replayed. */
    void guestEdited() {
        timeline.restartAt(now);
    }

    /** The machine was put back to an earlier state ({@code monitor restore}): the stop state of now is gone. */
    void restored() {
        heldFault = null;
        halted = false;
        exited = false;
        guestEdited();
    }

    private void onBreakpoint(Machine cpu, long address) {
        if (!breakpoints.contains(address)) {
            return;
        }
        // The counter's hook, when added before this one, has counted this instruction already. Not
        // otherwise: the counter last counted the instruction before (never this one, which stops at once).
        boolean counted = cpu.lastCountedInstruction() == address;
        if (mode == Mode.RECORDING) {
            recorded.add(new Hit(runTime() - (counted ? 1 : 0), hitReason(address)));
        } else if (mode == Mode.FORWARD && !stepping && !cancelled) {
            breakpointHit = address;
            hitCounted = counted;
            cancelled = true;
            cpu.requestStop(StopReason.HOST_REQUEST, 0, "breakpoint");
        }
    }

    /** Executes one instruction (breakpoints at the current one do not fire). */
    StopEvent step() {
        return step(0);
    }

    /** Executes one instruction of CPU {@code cpu} (0-based); the other CPUs do not run. */
    StopEvent step(int cpu) {
        return severalCpus() ? forwardCpus(cpu) : forward(true);
    }

    /** Runs until something stops the guest; first steps off a breakpoint at the current instruction. */
    StopEvent resume() {
        if (severalCpus()) {
            return resumeCpus();
        }
        if (breakpoints.contains(rip())) {
            StopEvent first = forward(true);
            if (!first.plainStep()) {
                return first;
            }
            if (breakpoints.contains(rip())) {
                return StopEvent.withReason(StopEvent.SIGTRAP, hitReason(rip()), "");
            }
        }
        return forward(false);
    }

    // ---- several CPUs -----------------------------------------------------------------------

    /** All-stop continue: steps the CPU that stopped off a breakpoint, then the turns go on from it. */
    private StopEvent resumeCpus() {
        Machine current = cpus.machine(stoppedCpu);
        long at = current.register(X86Reg.RIP);
        if (breakpoints.contains(at) && cpus.state(stoppedCpu) == dev.kemu.machine.smp.CpuState.RUNNING) {
            StopEvent first = forwardCpus(stoppedCpu);
            if (!first.plainStep()) {
                return first;
            }
        }
        return forwardCpus(-1);
    }

    /**
     * Runs CPU {@code only} for one instruction, or ({@code only} = -1) every CPU in turns of
     * {@link CpuSet#QUANTUM} from {@link #stoppedCpu} on until one stops; the reply's thread is that CPU.
     */
    private StopEvent forwardCpus(int only) {
        if (exited) {
            return StopEvent.exit(0, "the guest has already ended");
        }
        if (halted) {
            exited = true;
            return StopEvent.exit(0, "every CPU halted with nothing left to run");
        }
        boolean singleStep = only >= 0;
        if (singleStep && cpus.state(only) != dev.kemu.machine.smp.CpuState.RUNNING) {
            stoppedCpu = only;
            return StopEvent.signal(StopEvent.SIGTRAP, "cpu" + only + " " + CpuThreads.describe(cpus.state(only))
                    + ": it executes nothing until an IPI starts or wakes it; `continue` runs the other CPUs");
        }
        passing = heldFault;
        heldFault = null;
        stepping = singleStep;
        List<Machine.Subscription> watchHooks = new ArrayList<>();
        for (int id = 0; id < cpus.count(); id++) {
            watchHooks.addAll(armWatchpoints(cpus.machine(id)));
        }
        try {
            int cpu = singleStep ? only : stoppedCpu;
            int idleTurns = 0;
            while (true) {
                breakpointHit = null;
                watchHit = null;
                cancelled = false;
                hitCounted = false;
                runBase = now;
                if (!singleStep && interruptWaiting.getAsBoolean()) {
                    stoppedCpu = cpu;
                    return StopEvent.signal(StopEvent.SIGINT, "");
                }
                Optional<RunResult> turn = cpus.takeTurn(cpu, singleStep ? 1 : CpuSet.QUANTUM);
                if (turn.isPresent()) {
                    idleTurns = 0;
                    RunResult result = turn.get();
                    if (cpu == 0) {
                        now = runBase + Math.max(0, result.instructions()) - (uncounted(result) ? 1 : 0);
                    }
                    boolean endOfTurn = result.reason() == StopReason.BUDGET_EXHAUSTED
                            || cpus.state(cpu) == dev.kemu.machine.smp.CpuState.HALTED && result.reason() != StopReason.EXIT_PORT;
                    if (singleStep || !endOfTurn || watchHit != null) {
                        stoppedCpu = cpu;
                        return endOfTurn && watchHit == null ? StopEvent.signal(StopEvent.SIGTRAP, "")
                                : classify(result, singleStep);
                    }
                } else if (++idleTurns >= cpus.count()) {
                    halted = true;
                    return StopEvent.signal(StopEvent.SIGTRAP, "every CPU is halted or waiting for STARTUP; "
                            + "`continue` ends the session");
                }
                cpu = (cpu + 1) % cpus.count();
            }
        } finally {
            stepping = false;
            passing = null;
            watchHooks.forEach(Machine.Subscription::close);
        }
    }

    private StopEvent forward(boolean singleStep) {
        if (exited) {
            return StopEvent.exit(0, "the guest has already ended");
        }
        if (halted) {
            exited = true;
            return StopEvent.exit(0, "the guest halted with nothing left to run");
        }
        passing = heldFault;
        heldFault = null;
        stepping = singleStep;
        List<Machine.Subscription> watchHooks = armWatchpoints();
        try {
            while (true) {
                long target = singleStep ? now + 1 : Math.min(timeline.nextCheckpointAfter(now), now + POLL_INTERVAL);
                RunResult result = runTo(target);
                if (reachedTarget && watchHit == null) {
                    timeline.reached(now);
                    if (singleStep) {
                        return StopEvent.signal(StopEvent.SIGTRAP, "");
                    }
                    if (interruptWaiting.getAsBoolean()) {
                        return StopEvent.signal(StopEvent.SIGINT, "");
                    }
                    continue; // a checkpoint's pause, not a stop
                }
                return classify(result, singleStep);
            }
        } finally {
            stepping = false;
            passing = null;
            watchHooks.forEach(Machine.Subscription::close);
        }
    }

    /** Runs until instruction time {@code target} at most (the native counter's budget), keeping {@link #now} exact. */
    private RunResult runTo(long target) {
        breakpointHit = null;
        watchHit = null;
        cancelled = false;
        hitCounted = false;
        runBase = now;
        RunResult result;
        try {
            result = machine.run(rip(), RunLimits.budget(target - now));
        } finally {
            now = runTime();
        }
        if (uncounted(result)) {
            now--;
        }
        reachedTarget = result.reason() == StopReason.BUDGET_EXHAUSTED;
        return result;
    }

    /**
     * Whether the counter counted an instruction that did not execute (it runs again on the next start):
     * a breakpoint's, when the counter's hook came first, or one that faulted on a data access. A fault on
     * fetching an instruction comes before that instruction's hooks: nothing was counted for it.
     */
    private boolean uncounted(RunResult result) {
        return cancelled && hitCounted || result.reason() == StopReason.UNHANDLED_EXCEPTION
                && machine.lastCountedInstruction() == result.cpu().rip();
    }

    // ---- backwards ------------------------------------------------------------------------

    /** Goes back one instruction. */
    StopEvent reverseStep() {
        requireOneCpu("reverse-stepi");
        if (now <= timeline.origin()) {
            return StopEvent.withReason(StopEvent.SIGTRAP, "replaylog:begin;", "no earlier moment recorded");
        }
        goTo(now - 1);
        return StopEvent.signal(StopEvent.SIGTRAP, "");
    }

    /** Goes back to the last breakpoint or watchpoint hit before now, or to the beginning of the history. */
    StopEvent reverseContinue() {
        requireOneCpu("reverse-continue");
        long present = now;
        Optional<Hit> hit = lastHitBefore(present);
        if (hit.isEmpty()) {
            goTo(timeline.origin());
            return StopEvent.withReason(StopEvent.SIGTRAP, "replaylog:begin;", "");
        }
        goTo(hit.get().time());
        return StopEvent.withReason(StopEvent.SIGTRAP, hit.get().reason(), "");
    }

    private Optional<Hit> lastHitBefore(long present) {
        long end = present;
        for (long checkpoint : timeline.before(present)) {
            recorded.clear();
            record(checkpoint, end);
            Optional<Hit> latest = recorded.stream().filter(h -> h.time() < present && h.time() >= checkpoint)
                    .reduce((a, b) -> b.time() >= a.time() ? b : a);
            if (latest.isPresent()) {
                return latest;
            }
            end = checkpoint;
        }
        return Optional.empty();
    }

    /** Replays {@code [from, to)} noting every breakpoint and watchpoint hit. */
    private void record(long from, long to) {
        now = timeline.restoreAtOrBefore(from);
        List<Machine.Subscription> hooks = armWatchpoints();
        mode = Mode.RECORDING;
        try {
            replayTo(to);
        } finally {
            mode = Mode.FORWARD;
            hooks.forEach(Machine.Subscription::close);
        }
    }

    /** Puts the machine at instruction time {@code time} (restore, then execute the rest again). */
    void goTo(long time) {
        now = timeline.restoreAtOrBefore(time);
        mode = Mode.REPLAY;
        try {
            replayTo(time);
        } finally {
            mode = Mode.FORWARD;
        }
        heldFault = null;
        halted = false;
        exited = false;
    }

    private void replayTo(long time) {
        if (now < time) {
            RunResult result = runTo(time);
            if (now != time) { // the first run got there; a replay that does not is a determinism bug
                throw new IllegalStateException(String.format("replay stopped at instruction %d of %d: %s (%s)", now,
                        time, result.reason(), result.detail()));
            }
        }
    }

    /** The last guest store to physical {@code [physical, physical + length)} before now. */
    record LastWrite(long time, long rip, long address, int size, long oldValue, long newValue) {}

    /**
     * Finds the last instruction before now that stored into physical {@code [physical, physical +
     * length)}, by replaying the history backwards one checkpoint interval at a time with a write
     * hook there; the machine is back at the present afterwards.
     */
    Optional<LastWrite> lastWrite(long physical, int length) {
        requireOneCpu("last-write");
        long present = now;
        CpuException held = heldFault;
        boolean wasHalted = halted, wasExited = exited;
        List<LastWrite> writes = new ArrayList<>();
        long end = present;
        try {
            for (long checkpoint : timeline.before(present)) {
                writes.clear();
                now = timeline.restoreAtOrBefore(checkpoint);
                try (Machine.Subscription hook = machine.onMemoryAccess(Math.max(0, physical - MAX_ACCESS + 1),
                        physical + length - 1, false, true, (write, address, size, value) -> {
                            if (address + size > physical) {
                                writes.add(new LastWrite(runTime(), machine.lastCountedInstruction(), address, size,
                                        machine.ram().contains(address, size) ? readValue(address, size) : 0, value));
                            }
                        })) {
                    mode = Mode.REPLAY;
                    replayTo(end);
                } finally {
                    mode = Mode.FORWARD;
                }
                Optional<LastWrite> latest = writes.stream().filter(w -> w.time() <= present).reduce((a, b) -> b);
                if (latest.isPresent()) {
                    return latest;
                }
                end = checkpoint;
            }
            return Optional.empty();
        } finally {
            goTo(present); // the same moment, so the stop the user sees stays what it was
            heldFault = held;
            halted = wasHalted;
            exited = wasExited;
        }
    }

    private long readValue(long physical, int size) {
        return switch (size) {
            case 1 -> machine.ram().read8(physical);
            case 2 -> machine.ram().read8(physical) | machine.ram().read8(physical + 1) << 8;
            case 4 -> machine.ram().read32(physical) & 0xffff_ffffL;
            default -> machine.ram().read64(physical);
        };
    }

    // ---- watchpoints ----------------------------------------------------------------------

    private List<Machine.Subscription> armWatchpoints() {
        return armWatchpoints(machine);
    }

    /**
     * Hooks the watchpoints on {@code cpu}, through its own page tables; a hit stops that CPU before its
     * next instruction (its run is counted, so the native counter stops it there).
     */
    private List<Machine.Subscription> armWatchpoints(Machine cpu) {
        List<Machine.Subscription> hooks = new ArrayList<>();
        for (Watchpoint watchpoint : watchpoints) {
            for (long va = watchpoint.address(); va < watchpoint.address() + watchpoint.length(); ) {
                long end = Math.min((va | 0xfff) + 1, watchpoint.address() + watchpoint.length());
                long physical = cpu.physical(va);
                if (physical >= 0) {
                    long virtualBase = va - physical;
                    long first = physical, last = physical + (end - va) - 1;
                    // Unicorn matches an access by its first byte: start early enough for a wide store
                    // that begins below the range and reaches into it, then keep only overlapping ones.
                    hooks.add(cpu.onMemoryAccess(Math.max(0, first - MAX_ACCESS + 1), last,
                            watchpoint.kind() != Watchpoint.Kind.WRITE, watchpoint.kind() != Watchpoint.Kind.READ,
                            (write, address, size, value) -> {
                                if (address + size > first) {
                                    onWatched(cpu, watchpoint, write, virtualBase + Math.max(address, first));
                                }
                            }));
                }
                va = end;
            }
        }
        return hooks;
    }

    private void onWatched(Machine cpu, Watchpoint watchpoint, boolean write, long address) {
        if (!watchpoint.kind().matches(write)) {
            return;
        }
        String reason = String.format("%s:%x;", watchpoint.kind().stopReason(), address);
        if (mode == Mode.RECORDING) {
            recorded.add(new Hit(runTime() - 1, reason)); // backwards, stop before the access
        } else if (mode == Mode.FORWARD && watchHit == null) {
            watchHit = watchpoint;
            watchHitAddress = address;
            cpu.requestStopBeforeNextInstruction(StopReason.HOST_REQUEST, "watchpoint"); // the access completes
        }
    }

    // ---- stop replies ---------------------------------------------------------------------

    private StopEvent classify(RunResult result, boolean singleStep) {
        if (watchHit != null && result.reason() != StopReason.UNHANDLED_EXCEPTION) {
            return StopEvent.withReason(StopEvent.SIGTRAP,
                    String.format("%s:%x;", watchHit.kind().stopReason(), watchHitAddress), "");
        }
        return switch (result.reason()) {
            case BUDGET_EXHAUSTED, REACHED_END -> StopEvent.signal(StopEvent.SIGTRAP, "");
            case HOST_REQUEST -> breakpointHit != null ? StopEvent.withReason(StopEvent.SIGTRAP, hitReason(breakpointHit), "")
                    : StopEvent.signal(StopEvent.SIGTRAP, "");
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
        if (vector == ExceptionVector.DB || vector == ExceptionVector.BP) {
            return StopEvent.SIGTRAP;
        }
        return StopEvent.SIGSEGV;
    }

    /** Removes every hook of the session and frees its checkpoints; the machine runs at full speed again. */
    @Override
    public void close() {
        breakpointHooks.values().forEach(hooks -> hooks.forEach(Machine.Subscription::close));
        breakpointHooks.clear();
        breakpoints.clear();
        timeline.close();
        traps.interceptUnresolved(exception -> false, () -> false);
    }
}
