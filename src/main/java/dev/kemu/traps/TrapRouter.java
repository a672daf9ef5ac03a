package dev.kemu.traps;

import dev.kemu.debug.FaultAnalyzer;
import dev.kemu.debug.FaultLog;
import dev.kemu.debug.FaultPolicy;
import dev.kemu.debug.FaultReport;
import dev.kemu.debug.ResolvedFaults;
import dev.kemu.kernel.mm.DemandPaging;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.machine.CpuException;
import dev.kemu.machine.DeliveryResult;
import dev.kemu.machine.ExceptionDelivery;
import dev.kemu.machine.ExceptionOutcome;
import dev.kemu.machine.ExceptionVector;
import dev.kemu.machine.Machine;
import dev.kemu.machine.VirtAddr;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The one place a CPU exception is routed, every vector alike. First the kernel services: a #PF
 * inside a demand-paged VMA gets its page and the instruction restarts (copy-on-write belongs
 * here too). Then the user's {@link FaultPolicy}: stop (with a report, which {@code debug}
 * builds), or run the guest's own handler from its IDT ({@code auto}: only when it has a present
 * gate for the vector) and, if that cannot be entered, what the CPU raises instead, by the
 * double-fault rules its #DF handler; failing that the guest stops: a triple fault, whose chain
 * of exceptions {@link #tripleFault()} keeps.
 */
public final class TrapRouter implements Machine.ExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(TrapRouter.class);

    private final Supplier<Optional<KernelMemory>> memory;
    private final FaultAnalyzer analyzer;
    private volatile FaultPolicy policy;
    private final FaultLog faults = new FaultLog();
    private final BooleanSupplier tracing;
    private final Consumer<String> trace;
    private long demandPagedFaults;
    /** The resolved faults by kind (zero page, copy-on-write, ...), for the summary. */
    private final ResolvedFaults resolvedFaults = new ResolvedFaults();
    /** A debugger that stops the guest at a fault before the policy acts on it (gdb stub); none by default. */
    private Predicate<CpuException> debugger = exception -> false;
    private BooleanSupplier replaying = () -> false;
    /** Told of each #PF the kernel services did not resolve (--kasan's vmalloc guard pages); none by default. */
    private Consumer<CpuException> unresolvedPageFaults = exception -> {};
    private TripleFault tripleFault;
    /** The analyzer of each other CPU this router serves ({@link #serveCpu}); the bootstrap CPU uses {@code analyzer}. */
    private final Map<Machine, FaultAnalyzer> cpuAnalyzers = new IdentityHashMap<>();
    /** The name of the CPU whose exception is being routed (null with one CPU), for the trace line. */
    private String faultingCpu;
    /** The double-fault rules end any chain within four steps; this only guards against a modelling error. */
    private static final int MAX_NESTED_DELIVERIES = 8;

    public TrapRouter(Supplier<Optional<KernelMemory>> memory, FaultAnalyzer analyzer, FaultPolicy policy) {
        this(memory, analyzer, policy, log::isTraceEnabled, log::trace);
    }

    /** With its own sink for the one line per handled fault (TRACE level otherwise). */
    TrapRouter(Supplier<Optional<KernelMemory>> memory, FaultAnalyzer analyzer, FaultPolicy policy,
               BooleanSupplier tracing, Consumer<String> trace) {
        this.memory = memory;
        this.analyzer = analyzer;
        this.policy = policy;
        this.tracing = tracing;
        this.trace = trace;
    }

    /** Changes the policy for the faults from now on (the test harness sets it per test). */
    public void policy(FaultPolicy newPolicy) {
        this.policy = java.util.Objects.requireNonNull(newPolicy, "fault policy");
    }

    public FaultPolicy policy() {
        return policy;
    }

    public List<FaultReport> reports() {
        return faults.reports();
    }

    /** Faults beyond {@link FaultLog#MAX_REPORTS} that were handled but whose reports were not kept. */
    public long droppedReports() {
        return faults.dropped();
    }

    public long demandPagedFaults() {
        return demandPagedFaults;
    }

    /** The faults counted by {@link #demandPagedFaults()}, by kind. */
    public ResolvedFaults resolvedFaults() {
        return resolvedFaults;
    }

    /**
     * Lets a debugger see every exception the kernel services did not resolve, before the fault
     * policy: when {@code stopHere} answers true the run stops at the faulting instruction (with a
     * report), so the user can look and then continue into the guest's handler. While {@code replaying}
     * answers true (the debugger executes its recorded history again) faults are routed as before but
     * neither reported nor counted a second time.
     */
    public void interceptUnresolved(Predicate<CpuException> stopHere, BooleanSupplier replaying) {
        this.debugger = stopHere;
        this.replaying = replaying;
    }

    /**
     * Routes the exceptions of another CPU's machine too, under the same policy, kernel services and report
     * log, with {@code cpuAnalyzer} (which names that CPU) building its reports: an AP faults as the BSP does.
     */
    public void serveCpu(Machine cpuMachine, FaultAnalyzer cpuAnalyzer) {
        cpuAnalyzers.put(cpuMachine, cpuAnalyzer);
        cpuMachine.setExceptionHandler(this);
    }

    /** Forgets the reports and counts (the test harness calls this between tests). */
    public void clear() {
        faults.clear();
        demandPagedFaults = 0;
        resolvedFaults.clear();
        tripleFault = null;
    }

    @Override
    public ExceptionOutcome onException(Machine machine, CpuException exception) {
        boolean again = replaying.getAsBoolean();
        FaultAnalyzer cpuAnalyzer = cpuAnalyzers.getOrDefault(machine, analyzer);
        faultingCpu = cpuAnalyzer.cpuName();
        if (resolvedByKernel(exception)) {
            if (!again) {
                demandPagedFaults++;
                resolvedFaults.record(memory.get(), exception.cr2());
            }
            machine.finishException();
            traced(exception, "demand-paged");
            return ExceptionOutcome.RESUME;
        }
        // Past the cap, faults are only counted: a guest faulting in a loop must not pay for reports.
        FaultReport report = faults.hasRoom() && !again
                ? cpuAnalyzer.analyze(exception) : null;
        if (debugger.test(exception)) {
            return stop(exception, report, "stopped for the debugger before delivery");
        }
        return switch (policy) {
            case REPORT, STOP -> stop(exception, report, "guest stopped (--on-fault=" + policy.name().toLowerCase() + ")");
            // A present gate kemu cannot use (a task gate) goes the delivery way, to be refused with its reason.
            case AUTO -> exception.hasIdtGate() || exception.idtGate().failure() instanceof DeliveryResult.Unsupported
                    ? deliverAsTheCpuWould(machine, exception, report)
                    : stop(exception, report, "guest stopped: " + exception.idtGate().problem()
                    + " (--on-fault=auto delivers only through a present gate)");
            case DELIVER -> deliverAsTheCpuWould(machine, exception, report);
        };
    }

    /** The exceptions that ended in a triple fault, if one happened since the router was made or cleared. */
    public Optional<TripleFault> tripleFault() {
        return Optional.ofNullable(tripleFault);
    }

    /**
     * Delivers through the guest's IDT; an exception raised on the way (no gate, unwritable stack)
     * is delivered in its place or, by the double-fault rules, as a #DF; one raised while delivering
     * the #DF is a triple fault and the guest stops.
     */
    private ExceptionOutcome deliverAsTheCpuWould(Machine machine, CpuException original, FaultReport report) {
        List<TripleFault.Step> chain = new ArrayList<>(List.of(TripleFault.Step.of(original)));
        List<String> problems = new ArrayList<>();
        CpuException current = original;
        for (int attempt = 0; attempt < MAX_NESTED_DELIVERIES; attempt++) {
            DeliveryResult result = ExceptionDelivery.deliver(machine, current);
            switch (result) {
                case DeliveryResult.Delivered delivered -> {
                    return resume(machine, original, report, problems.isEmpty()
                            ? "delivered to the guest's " + ExceptionVector.mnemonic(original.vector())
                            + " handler (vector " + original.vector() + ")"
                            : "could not be delivered (" + String.join("; then ", problems) + "); delivered "
                            + ExceptionVector.mnemonic(current.vector()) + " instead");
                }
                case DeliveryResult.Unsupported unsupported -> {
                    return stop(original, report, "not delivered: " + unsupported.problem());
                }
                case DeliveryResult.Faulted fault -> {
                    problems.add(fault.problem());
                    CpuException raised = current.raisedWhileDelivering(fault);
                    chain.add(TripleFault.Step.of(raised));
                    if (current.is(ExceptionVector.DF)) {
                        tripleFault = new TripleFault(chain);
                        return stop(original, report, "triple fault: " + problems.getFirst() + "; faults in order: "
                                + tripleFault);
                    }
                    if (ExceptionVector.escalatesToDoubleFault(current.vector(), fault.vector())) {
                        current = current.doubleFault();
                        chain.add(TripleFault.Step.of(current));
                    } else {
                        current = raised;
                    }
                }
            }
        }
        return stop(original, report, "not delivered: more than " + MAX_NESTED_DELIVERIES
                + " exceptions raised while delivering it: " + String.join("; ", problems));
    }

    /** Sends every #PF the kernel services leave unresolved to {@code observer}, before the policy acts. */
    public void onUnresolvedPageFault(Consumer<CpuException> observer) {
        this.unresolvedPageFaults = observer;
    }

    /** The kernel services' part: true when one of them fixed the cause and the instruction can restart. */
    private boolean resolvedByKernel(CpuException exception) {
        boolean resolved = exception.is(ExceptionVector.PF) && memory.get()
                .map(kernel -> kernel.demandPaging().handleFault(VirtAddr.of(exception.cr2()), exception.errorCodeOrMinusOne())
                        == DemandPaging.Outcome.MAPPED)
                .orElse(false);
        if (!resolved && exception.is(ExceptionVector.PF) && !replaying.getAsBoolean()) {
            unresolvedPageFaults.accept(exception);
        }
        return resolved;
    }

    private ExceptionOutcome resume(Machine machine, CpuException exception, FaultReport report, String outcome) {
        keep(report, outcome);
        machine.finishException();
        traced(exception, outcome);
        return ExceptionOutcome.RESUME;
    }

    private void keep(FaultReport report, String outcome) {
        if (!replaying.getAsBoolean()) { // a replayed fault was reported when it first happened
            faults.keep(report == null ? null : report.withOutcome(outcome));
        }
    }

    private ExceptionOutcome stop(CpuException exception, FaultReport report, String outcome) {
        keep(report, outcome);
        traced(exception, outcome);
        return ExceptionOutcome.STOP;
    }

    private void traced(CpuException exception, String outcome) {
        if (tracing.getAsBoolean()) {
            trace.accept(faultingCpu == null ? traceLine(exception, outcome) : faultingCpu + " " + traceLine(exception, outcome));
        }
    }

    /** {@code trap #PF address=0x1000 rip=0xffffffff80101234: demand-paged}; the address is CR2 for #PF, else RIP. */
    static String traceLine(CpuException exception, String outcome) {
        long address = exception.is(ExceptionVector.PF) ? exception.cr2() : exception.rip();
        return String.format("trap %s (vector %d) address=0x%x rip=0x%x cpl=%d%s: %s",
                ExceptionVector.mnemonic(exception.vector()), exception.vector(), address, exception.rip(),
                exception.cpl(), exception.errorCode().isPresent()
                        ? String.format(" error=0x%x", exception.errorCode().getAsInt()) : "", outcome);
    }
}
