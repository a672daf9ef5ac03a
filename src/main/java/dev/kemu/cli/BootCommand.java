package dev.kemu.cli;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;
import dev.kemu.boot.StageEvent;
import dev.kemu.debug.FaultPolicy;
import dev.kemu.debug.FaultReport;
import dev.kemu.machine.RunResult;
import dev.kemu.machine.Machine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.util.concurrent.Callable;

/** {@code kemu boot}: builds and boots the kernel, printing each stage, the console and a summary. */
@Command(name = "boot", mixinStandardHelpOptions = true,
        description = {"Assemble and link kernel-asm/, boot it through kemu's firmware stub, and print every boot",
                "stage with its CPU state, then the debug console (port 0xE9) and a summary.",
                "Exits non-zero when the kernel does not reach kmain and stop cleanly."})
final class BootCommand implements Callable<Integer> {
    @Mixin
    BootArguments arguments = new BootArguments();

    @Option(names = "--mm", description = "After the run, print the physical memory map, slabinfo and the VMAs.")
    boolean memoryReport;

    @Option(names = "--fault-format", defaultValue = "text", description = "Fault reports as text or json.")
    String faultFormat;

    @Override
    public Integer call() {
        PrintStream out = System.out;
        KernelSources.BuiltImages images = arguments.images();
        BootOptions options = arguments.options();
        out.printf("kemu boot: %s, %d MiB RAM, libunicorn %s%n", images.kernel(), arguments.ramMiB,
                Machine.engineVersion().replaceFirst(" from .*", ""));
        BootReport report;
        String memory = "";
        try (KernelBoot boot = new KernelBoot(images, options)) {
            report = boot.run();
            if (memoryReport) {
                memory = boot.services().memory().map(MemoryReport::of)
                        .orElse("(the guest never initialised the memory services)\n");
            }
        }
        for (StageEvent event : report.stages()) {
            out.println(event.line());
        }
        out.println("--- debug console ---");
        out.print(report.console());
        if (!report.console().isEmpty() && !report.console().endsWith("\n")) {
            out.println();
        }
        out.println("--- summary ---");
        RunResult run = report.run();
        out.printf("stopped: %s (%s), %d instructions, %.2f ms, %d demand-paged faults%n", run.reason(), run.detail(),
                run.instructions(), run.wallTime().toNanos() / 1e6, report.demandPagedFaults());
        if (options.onFault() != FaultPolicy.STOP) {
            for (FaultReport fault : report.faults()) {
                out.print("json".equalsIgnoreCase(faultFormat) ? fault.json() + "\n" : fault.text());
            }
        }
        out.print(memory);
        if (report.failure().isPresent()) {
            System.err.println("kemu: boot failed: " + report.failure().get());
            return 1;
        }
        return 0;
    }
}
