package dev.kemu.machine.smp;

import dev.kemu.machine.HypercallHandler;
import dev.kemu.machine.Machine;
import dev.kemu.machine.RunLimits;
import dev.kemu.machine.RunResult;
import dev.kemu.machine.StopReason;
import dev.kemu.machine.devices.LocalApic;
import dev.kemu.machine.interrupts.IpiRouter;
import dev.kemu.machine.interrupts.PcInterrupts;
import dev.kemu.unicorn.Context;
import dev.kemu.unicorn.HookHandle;
import dev.kemu.unicorn.X86Reg;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;

/**
 * The CPUs of one machine, run deterministically from one thread. CPU 0 is the bootstrap machine; each
 * other CPU is a {@link Machine#sharingRam} machine over the same guest RAM, with its own engine (its own
 * registers, TLB and translated code). APIC ID = CPU index. See docs/smp.md.
 *
 * <p>Scheduling: round robin in CPU order, {@link #QUANTUM} instructions per turn, over the CPUs that are
 * {@link CpuState#RUNNING}. One instruction never straddles a turn, so a {@code lock}-prefixed instruction is
 * atomic across CPUs by construction, and the same guest gives the same interleaving on every run.
 *
 * <p>Code coherence: an engine caches translated code that another engine's stores do not invalidate.
 * Before a CPU's turn, if any other CPU ran since its last turn, its whole translation cache is dropped
 * (so code written by one CPU and executed by another runs the new bytes from the next turn on). A CPU that
 * runs alone (the others halted or waiting) keeps its cache. Writes by the host (hypercall services)
 * are the caller's to announce with {@link Machine#codeChanged}, as with one CPU.
 *
 * <p>IPIs: this set is the {@link IpiRouter} the local APICs call. INIT and STARTUP take effect at the end
 * of the sender's turn, in the order sent (an engine cannot be driven from inside another engine's hook);
 * the sender's code cannot tell, since a real IPI is not instantaneous either. Fixed IPIs go to the
 * {@link FixedIpiSink} at once.
 */
public final class CpuSet implements IpiRouter, AutoCloseable {
    /** Instructions per turn: small enough that a CPU spinning on a flag sees another CPU's store soon. */
    public static final long QUANTUM = 10_000;
    private static final Logger log = LoggerFactory.getLogger(CpuSet.class);

    private final List<Cpu> cpus = new ArrayList<>();
    private final Queue<Runnable> pendingIpis = new ArrayDeque<>();
    private final long quantum;
    private FixedIpiSink fixedSink = FixedIpiSink.NONE;
    /** Turns taken so far, to tell whether another CPU ran since a CPU's last turn. */
    private long turn;

    private static final class Cpu implements AutoCloseable {
        final int id;
        final Machine machine;
        final boolean ownsMachine;
        final HookHandle identity;
        final Context powerOn;
        CpuState state;
        long rip;
        long instructions;
        long lastTurn = -1;

        Cpu(int id, Machine machine, boolean ownsMachine, int count) {
            this.id = id;
            this.machine = machine;
            this.ownsMachine = ownsMachine;
            this.identity = CpuIdentity.install(machine, id, count);
            this.powerOn = ownsMachine ? machine.engine().contextSave() : null;
        }

        String name() {
            return "cpu" + id;
        }

        @Override
        public void close() {
            if (ownsMachine) {
                powerOn.close();
                machine.close();
            }
        }
    }

    /** {@code count} CPUs: {@code bootstrap} as cpu0 (running), the others waiting for INIT/STARTUP. */
    public CpuSet(Machine bootstrap, int count) {
        this(bootstrap, count, QUANTUM);
    }

    /** As above with another quantum (tests and benchmarks; the machine's behaviour is the same, only the interleaving). */
    public CpuSet(Machine bootstrap, int count, long quantum) {
        if (count < 1 || count > 255) {
            throw new IllegalArgumentException(count + " CPUs: a machine has 1 to 255 CPUs (xAPIC IDs 0-254)");
        }
        if (quantum < 1) {
            throw new IllegalArgumentException("a scheduling quantum of " + quantum + " instructions: must be >= 1");
        }
        this.quantum = quantum;
        try {
            Cpu bsp = new Cpu(0, bootstrap, false, count);
            bsp.state = CpuState.RUNNING;
            cpus.add(bsp);
            for (int id = 1; id < count; id++) {
                Machine ap = Machine.sharingRam(bootstrap);
                ResetRom.map(ap.engine());
                Cpu cpu = new Cpu(id, ap, true, count);
                cpus.add(cpu);
                reset(cpu);
            }
            bootstrap.interrupts().ifPresent(this::connectLocalApics);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Gives every application processor its own local APIC (ID = CPU index) beside the bootstrap CPU's
     * I/O APIC, and makes this set the router of every APIC: INIT and STARTUP reach the CPUs, a fixed IPI
     * (or an I/O APIC message) lands in its target's IRR and wakes it from hlt, and flat logical
     * destinations match each APIC's own LDR.
     */
    private void connectLocalApics(PcInterrupts bootstrapInterrupts) {
        for (Cpu cpu : cpus) {
            PcInterrupts own = cpu.ownsMachine ? cpu.machine.attachApInterrupts(cpu.id, bootstrapInterrupts)
                    : bootstrapInterrupts;
            if (cpus.size() > 1) { // one CPU keeps its own router: INIT and STARTUP to itself are ignored, not queued
                own.localApic().setRouter(this);
            }
            own.localApic().setLogicalIds(id -> id >= 0 && id < cpus.size() ? localApic(id).logicalId() : 0);
        }
        connectFixedIpis((target, source, vector) -> {
            Cpu cpu = cpus.get(target);
            if (cpu.state == CpuState.WAIT_FOR_STARTUP) {
                return; // a CPU waiting for STARTUP takes only INIT and STARTUP (SDM vol. 3, wait-for-SIPI)
            }
            localApic(target).accept(vector);
            // HLT ends when an interrupt is delivered: IF set and the vector deliverable past TPR and ISR.
            if (cpu.state == CpuState.HALTED && (cpu.machine.register(X86Reg.RFLAGS) & dev.kemu.machine.CpuState.RFLAGS_IF) != 0
                    && cpu.machine.interrupts().orElseThrow().pending()) {
                cpu.state = CpuState.RUNNING; // its run loop delivers the vector before anything else runs
            }
        });
    }

    private LocalApic localApic(int id) {
        return cpus.get(id).machine.interrupts().orElseThrow().localApic();
    }

    public int count() {
        return cpus.size();
    }

    /** CPU {@code id}'s machine (0: the bootstrap machine). */
    public Machine machine(int id) {
        return cpu(id).machine;
    }

    public CpuState state(int id) {
        return cpu(id).state;
    }

    /**
     * Serves the hypercall ABI on {@code port} on every application processor with {@code handler} (the one
     * the bootstrap machine serves; attach it there first). The handler gets the calling CPU's machine.
     */
    public void attachHypercalls(int port, HypercallHandler handler) {
        for (Cpu cpu : cpus) {
            if (cpu.ownsMachine) {
                cpu.machine.attachHypercalls(port, handler);
            }
        }
    }

    /** Where fixed IPIs go (the local APICs); until set they are dropped. */
    public void connectFixedIpis(FixedIpiSink sink) {
        this.fixedSink = sink;
    }

    // ---- IpiRouter ------------------------------------------------------------------------------

    @Override
    public void fixed(int sourceApicId, int targetApicId, int vector) {
        if (targetApicId >= 0 && targetApicId < cpus.size()) {
            fixedSink.deliver(targetApicId, sourceApicId, vector);
        } else {
            log.debug("fixed IPI vector {} from APIC {} to APIC {}: no such CPU, dropped", vector, sourceApicId, targetApicId);
        }
    }

    @Override
    public void init(int sourceApicId, int targetApicId) {
        pendingIpis.add(() -> applyInit(sourceApicId, targetApicId));
    }

    @Override
    public void startup(int sourceApicId, int targetApicId, int vector) {
        pendingIpis.add(() -> applyStartup(sourceApicId, targetApicId, vector));
    }

    @Override
    public int[] apicIds() {
        return cpus.stream().mapToInt(cpu -> cpu.id).toArray();
    }

    /** Carries out the INIT and STARTUP IPIs sent so far (the scheduler does so after every turn). */
    public void deliverPendingIpis() {
        Runnable ipi;
        while ((ipi = pendingIpis.poll()) != null) {
            ipi.run();
        }
    }

    private void applyInit(int source, int target) {
        if (target <= 0 || target >= cpus.size()) {
            // INIT of the bootstrap CPU would reset the machine's boot CPU; kemu does not model that (docs/smp.md).
            log.info("INIT IPI from APIC {} to APIC {} ignored: {}", source, target,
                    target == 0 ? "kemu does not reset the bootstrap CPU (cpu0)" : "no such CPU");
            return;
        }
        reset(cpus.get(target));
    }

    private void applyStartup(int source, int target, int vector) {
        if (target <= 0 || target >= cpus.size()) {
            log.info("STARTUP IPI from APIC {} to APIC {} ignored: no such application processor", source, target);
            return;
        }
        Cpu cpu = cpus.get(target);
        if (cpu.state != CpuState.WAIT_FOR_STARTUP) {
            // As on hardware: a STARTUP IPI reaches only a CPU waiting after INIT (the second of INIT-SIPI-SIPI is dropped).
            log.debug("STARTUP IPI to {} ignored: it is {}, not waiting for STARTUP", cpu.name(), cpu.state);
            return;
        }
        ResetRom.aimStartup(cpu.machine.engine(), vector);
        cpu.rip = ResetRom.STARTUP_IP;
        cpu.state = CpuState.RUNNING;
    }

    /** INIT: the power-on context, then the reset ROM's walk into real mode, halted waiting for STARTUP. */
    private void reset(Cpu cpu) {
        // INIT puts the local APIC in its power-on state too, its ID kept (SDM vol. 3, 10.4.7.3).
        cpu.machine.interrupts().ifPresent(interrupts -> interrupts.localApic().reset());
        cpu.machine.engine().contextRestore(cpu.powerOn);
        cpu.machine.flushTlb();
        cpu.machine.engine().flushTranslationCache();
        if (!ResetRom.enterWaitForStartup(cpu.machine)) {
            throw new IllegalStateException(String.format("%s did not reach the INIT state: the reset stub stopped at "
                    + "RIP 0x%x with CR0 0x%x", cpu.name(), cpu.machine.register(X86Reg.RIP), cpu.machine.register(X86Reg.CR0)));
        }
        cpu.state = CpuState.WAIT_FOR_STARTUP;
    }

    // ---- scheduling -----------------------------------------------------------------------------

    /**
     * Runs every CPU from where it is (cpu0 from {@code bootstrapRip}) in turns of the quantum until one stops
     * for a reason other than its quantum or a {@code hlt} (exit port, fault, error), every CPU is halted or
     * waiting, or {@code budget} instructions (all CPUs together, 0 = no limit) have run.
     */
    public SmpRunResult run(long bootstrapRip, long budget) {
        return run(bootstrapRip, budget, java.time.Duration.ZERO);
    }

    /** As above, and ending with {@link StopReason#TIMEOUT} once {@code timeout} of wall-clock time passed (zero: none). */
    public SmpRunResult run(long bootstrapRip, long budget, java.time.Duration timeout) {
        return run(bootstrapRip, 0, budget, timeout);
    }

    /**
     * As above, and ending with {@link StopReason#REACHED_END} when cpu0 is about to execute {@code bootstrapEnd}
     * (0: no end), the others having run their turns until then: a snapshot point of a machine with several CPUs.
     */
    public SmpRunResult run(long bootstrapRip, long bootstrapEnd, long budget, java.time.Duration timeout) {
        long started = System.nanoTime();
        Cpu bsp = cpus.getFirst();
        bsp.rip = bootstrapRip;
        bsp.state = CpuState.RUNNING;
        for (Cpu cpu : cpus) {
            cpu.instructions = 0;
        }
        long executed = 0;
        RunResult last = null;
        Cpu lastCpu = bsp;
        while (true) {
            boolean anyRan = false;
            for (Cpu cpu : cpus) {
                if (cpu.state != CpuState.RUNNING) {
                    continue;
                }
                long slice = budget == 0 ? quantum : Math.min(quantum, budget - executed);
                if (slice <= 0) {
                    return result(lastCpu, last, "the budget of " + budget + " instructions for all CPUs is spent");
                }
                java.time.Duration left = timeout.isZero() ? java.time.Duration.ZERO
                        : timeout.minusNanos(System.nanoTime() - started);
                if (!timeout.isZero() && (left.isNegative() || left.isZero())) {
                    return timedOut(lastCpu, last, timeout);
                }
                last = turn(cpu, cpu == bsp ? bootstrapEnd : 0, slice, left);
                lastCpu = cpu;
                anyRan = true;
                executed += Math.max(0, last.instructions());
                deliverPendingIpis();
                StopReason reason = last.reason();
                if (reason == StopReason.HALTED || haltedInRealMode(cpu, reason)) {
                    cpu.state = CpuState.HALTED;
                } else if (reason != StopReason.BUDGET_EXHAUSTED) {
                    return result(cpu, last, cpu.name() + ": " + last.detail());
                }
            }
            if (!anyRan) {
                return result(lastCpu, last, "every CPU is halted or waiting for STARTUP");
            }
        }
    }

    /**
     * One turn of CPU {@code id} of at most {@code slice} instructions, from the RIP its machine holds now (a
     * debugger may have moved it), then the IPIs it sent; a {@code hlt} takes it out of the rotation as in
     * {@link #run}. For a debugger that drives the rotation itself (all-stop: it stops every CPU between turns).
     * Empty when the CPU is not {@link CpuState#RUNNING}.
     */
    public java.util.Optional<RunResult> takeTurn(int id, long slice) {
        Cpu cpu = cpu(id);
        if (cpu.state != CpuState.RUNNING) {
            return java.util.Optional.empty();
        }
        cpu.rip = cpu.machine.register(X86Reg.RIP);
        RunResult last = turn(cpu, 0, slice, java.time.Duration.ZERO);
        deliverPendingIpis();
        if (last.reason() == StopReason.HALTED || haltedInRealMode(cpu, last.reason())) {
            cpu.state = CpuState.HALTED;
        }
        return java.util.Optional.of(last);
    }

    private SmpRunResult timedOut(Cpu cpu, RunResult last, java.time.Duration timeout) {
        RunResult stopped = new RunResult(StopReason.TIMEOUT, cpu.machine.cpu(), last == null ? 0 : last.instructions(),
                0, -1, timeout, "wall-clock limit of " + timeout.toMillis() + " ms reached");
        return result(cpu, stopped, cpu.name() + ": wall-clock limit of " + timeout.toMillis() + " ms reached");
    }

    private RunResult turn(Cpu cpu, long end, long slice, java.time.Duration timeout) {
        if (otherCpuRanSince(cpu)) {
            cpu.machine.engine().flushTranslationCache(); // another engine may have written code this one translated
        }
        cpu.lastTurn = ++turn;
        RunResult result = cpu.machine.run(cpu.rip, end, new RunLimits(slice, timeout));
        cpu.rip = cpu.machine.register(X86Reg.RIP);
        cpu.instructions += Math.max(0, result.instructions());
        return result;
    }

    /**
     * A {@code hlt} in real mode: the run loop looks for the hlt at RIP - 1 as a linear address, which in real
     * mode leaves out CS's base, so it reports an unexplained stop; the byte at CS.base + IP - 1 tells.
     */
    private static boolean haltedInRealMode(Cpu cpu, StopReason reason) {
        if (reason != StopReason.HOST_REQUEST || (cpu.machine.register(X86Reg.CR0) & 1) != 0) {
            return false;
        }
        long linear = cpu.machine.codeSegment().base() + cpu.rip - 1;
        return linear >= 0 && linear < cpu.machine.ram().size() && cpu.machine.ram().read8(linear) == 0xf4;
    }

    /** True when some other CPU took a turn after this CPU's last one. */
    private boolean otherCpuRanSince(Cpu cpu) {
        for (Cpu other : cpus) {
            if (other != cpu && other.lastTurn > cpu.lastTurn) {
                return true;
            }
        }
        return false;
    }

    private SmpRunResult result(Cpu cpu, RunResult last, String detail) {
        List<Long> counts = cpus.stream().map(c -> c.instructions).toList();
        return new SmpRunResult(cpu.id, last, counts, detail);
    }

    private Cpu cpu(int id) {
        if (id < 0 || id >= cpus.size()) {
            throw new IllegalArgumentException("cpu" + id + ": this machine has cpu0 to cpu" + (cpus.size() - 1));
        }
        return cpus.get(id);
    }

    /** Closes the application processors' engines (the bootstrap machine stays its owner's to close). */
    @Override
    public void close() {
        for (Cpu cpu : cpus) {
            cpu.identity.remove();
            cpu.close();
        }
        cpus.clear();
    }
}
