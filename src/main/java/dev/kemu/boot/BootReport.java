package dev.kemu.boot;

import dev.kemu.debug.FaultReport;
import dev.kemu.machine.RunResult;

import java.util.List;
import java.util.Optional;

/**
 * What a boot did: the stages reached (in order), the debug-console output, how the run
 * ended and, when the kernel did not reach kmain and stop cleanly, a sentence saying at
 * which stage and why; every fault report, and how many faults demand paging resolved.
 */
public record BootReport(List<StageEvent> stages, String console, RunResult run, Optional<String> failure,
                         List<FaultReport> faults, long demandPagedFaults) {

    public boolean succeeded() {
        return failure.isEmpty();
    }

    public Optional<StageEvent> stage(BootStage stage) {
        return stages.stream().filter(e -> e.stage() == stage).findFirst();
    }

    public boolean reached(BootStage stage) {
        return stage(stage).isPresent();
    }
}
