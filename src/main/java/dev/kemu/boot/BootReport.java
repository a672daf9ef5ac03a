package dev.kemu.boot;

import dev.kemu.debug.FaultReport;
import dev.kemu.machine.RunResult;

import java.util.List;
import java.util.Optional;

/**
 * What a boot did: the stages reached (in order), the debug-console output, how the run
 * ended and, when the kernel did not reach kmain and stop cleanly, a sentence saying at
 * which stage and why; every fault report, how many faults demand paging resolved, and what
 * the guest did with the serial ports and with ports no device claimed.
 */
public record BootReport(List<StageEvent> stages, String console, RunResult run, Optional<String> failure,
                         List<FaultReport> faults, long demandPagedFaults, DeviceActivity devices) {

    /** What the guest sent out of COM1. */
    public String serial() {
        return devices.com1();
    }

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
