package dev.kemu.debug;

import dev.kemu.kernel.mm.DemandPaging;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.machine.ExceptionDelivery;
import dev.kemu.machine.ExceptionVector;
import dev.kemu.machine.Machine;
import dev.kemu.unicorn.X86Reg;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Supplier;

/**
 * The machine's exception handler: a #PF inside a demand-paged VMA gets its page and the
 * instruction restarts; any other fault gets a {@link FaultReport} and then stops the guest
 * or, with {@link FaultPolicy#DELIVER}, runs the guest's own handler (and, if that cannot be
 * entered, its #DF handler, as the CPU would; failing that the guest is stopped: a triple fault).
 */
public final class FaultDispatcher implements Machine.ExceptionHandler {
    private final Supplier<Optional<KernelMemory>> memory;
    private final FaultAnalyzer analyzer;
    private final FaultPolicy policy;
    /** Reports kept per run; a guest faulting in a loop must not exhaust the host's memory. */
    public static final int MAX_REPORTS = 1000;

    private final List<FaultReport> reports = new ArrayList<>();
    private long demandPagedFaults;
    private long droppedReports;

    public FaultDispatcher(Supplier<Optional<KernelMemory>> memory, FaultAnalyzer analyzer, FaultPolicy policy) {
        this.memory = memory;
        this.analyzer = analyzer;
        this.policy = policy;
    }

    public List<FaultReport> reports() {
        return List.copyOf(reports);
    }

    /** Faults beyond {@link #MAX_REPORTS} that were handled but whose reports were not kept. */
    public long droppedReports() {
        return droppedReports;
    }

    private void keep(FaultReport report) {
        if (report != null && reports.size() < MAX_REPORTS) {
            reports.add(report);
        } else {
            droppedReports++;
        }
    }

    public long demandPagedFaults() {
        return demandPagedFaults;
    }

    /** Forgets the reports and counts (the test harness calls this between tests). */
    public void clear() {
        reports.clear();
        demandPagedFaults = 0;
        droppedReports = 0;
    }

    @Override
    public boolean onException(Machine machine, int vector) {
        int errorCode = hasErrorCode(vector) ? machine.exceptionErrorCode() : -1;
        long cr2 = vector == ExceptionVector.PF ? machine.register(X86Reg.CR2) : 0;
        if (vector == ExceptionVector.PF && memory.get().isPresent()
                && memory.get().get().demandPaging().handleFault(cr2, errorCode) == DemandPaging.Outcome.MAPPED) {
            demandPagedFaults++;
            machine.finishException();
            return true;
        }
        // Past the cap, faults are only counted: a guest faulting in a loop must not pay for reports.
        FaultReport report = reports.size() < MAX_REPORTS ? analyzer.analyze(vector, errorCode, cr2) : null;
        if (policy != FaultPolicy.DELIVER) {
            keep(outcome(report, "guest stopped (--on-fault=" + policy.name().toLowerCase() + ")"));
            return false;
        }
        OptionalInt code = errorCode < 0 ? OptionalInt.empty() : OptionalInt.of(errorCode);
        Optional<String> failure = ExceptionDelivery.deliver(machine, vector, code, cr2);
        if (failure.isEmpty()) {
            keep(outcome(report, "delivered to the guest's handler for vector " + vector));
            machine.finishException();
            return true;
        }
        if (vector != ExceptionVector.DF) {
            Optional<String> doubleFault = ExceptionDelivery.deliver(machine, ExceptionVector.DF, OptionalInt.of(0), cr2);
            if (doubleFault.isEmpty()) {
                keep(outcome(report, "could not be delivered (" + failure.get() + "); delivered #DF instead"));
                machine.finishException();
                return true;
            }
        }
        keep(outcome(report, "triple fault: " + failure.get()));
        return false;
    }

    private static FaultReport outcome(FaultReport report, String outcome) {
        return report == null ? null : report.withOutcome(outcome);
    }

    private static boolean hasErrorCode(int vector) {
        return vector == ExceptionVector.DF || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21;
    }
}
