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
    private final List<FaultReport> reports = new ArrayList<>();
    private long demandPagedFaults;

    public FaultDispatcher(Supplier<Optional<KernelMemory>> memory, FaultAnalyzer analyzer, FaultPolicy policy) {
        this.memory = memory;
        this.analyzer = analyzer;
        this.policy = policy;
    }

    public List<FaultReport> reports() {
        return List.copyOf(reports);
    }

    public long demandPagedFaults() {
        return demandPagedFaults;
    }

    /** Forgets the reports and counts (the test harness calls this between tests). */
    public void clear() {
        reports.clear();
        demandPagedFaults = 0;
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
        FaultReport report = analyzer.analyze(vector, errorCode, cr2);
        if (policy != FaultPolicy.DELIVER) {
            reports.add(report.withOutcome("guest stopped (--on-fault=" + policy.name().toLowerCase() + ")"));
            return false;
        }
        OptionalInt code = errorCode < 0 ? OptionalInt.empty() : OptionalInt.of(errorCode);
        Optional<String> failure = ExceptionDelivery.deliver(machine, vector, code, cr2);
        if (failure.isEmpty()) {
            reports.add(report.withOutcome("delivered to the guest's handler for vector " + vector));
            machine.finishException();
            return true;
        }
        if (vector != ExceptionVector.DF) {
            Optional<String> doubleFault = ExceptionDelivery.deliver(machine, ExceptionVector.DF, OptionalInt.of(0), cr2);
            if (doubleFault.isEmpty()) {
                reports.add(report.withOutcome("could not be delivered (" + failure.get() + "); delivered #DF instead"));
                machine.finishException();
                return true;
            }
        }
        reports.add(report.withOutcome("triple fault: " + failure.get()));
        return false;
    }

    private static boolean hasErrorCode(int vector) {
        return vector == ExceptionVector.DF || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21;
    }
}
