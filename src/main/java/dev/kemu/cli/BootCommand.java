package dev.kemu.cli;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;
import dev.kemu.boot.StageEvent;
import dev.kemu.machine.RunResult;
import dev.kemu.unicorn.Unicorn;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code kemu boot}: builds and boots the kernel, printing each stage, the console and a summary. */
@Command(name = "boot", mixinStandardHelpOptions = true,
        description = {"Assemble and link kernel-asm/, boot it through kemu's firmware stub, and print every boot",
                "stage with its CPU state, then the debug console (port 0xE9) and a summary.",
                "Exits non-zero when the kernel does not reach kmain and stop cleanly."})
final class BootCommand implements Callable<Integer> {
    @Option(names = "--kernel", description = "Boot this kernel ELF instead of building kernel-asm/.")
    Path kernel;

    @Option(names = "--ram", defaultValue = "64", description = "Guest RAM in MiB (default: ${DEFAULT-VALUE}).")
    long ramMiB;

    @Option(names = "--budget", defaultValue = "10000000",
            description = "Instruction budget; the boot fails when it runs out (default: ${DEFAULT-VALUE}).")
    long budget;

    @Option(names = "--cmdline", defaultValue = "kemu", description = "Kernel command line (default: ${DEFAULT-VALUE}).")
    String commandLine;

    @Option(names = "--mm", description = "After the run, print the physical memory map, slabinfo and the VMAs.")
    boolean memoryReport;

    @Override
    public Integer call() {
        PrintStream out = System.out;
        KernelSources.BuiltImages images = KernelSources.defaults().build();
        if (kernel != null) {
            images = new KernelSources.BuiltImages(images.firmware(), kernel);
        }
        BootOptions options = new BootOptions(ramMiB << 20, commandLine, budget, Duration.ofSeconds(60));
        out.printf("kemu boot: %s, %d MiB RAM, libunicorn %s%n", images.kernel(), ramMiB, Unicorn.libraryVersion());
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
        out.printf("stopped: %s (%s), %d instructions, %.2f ms%n", run.reason(), run.detail(), run.instructions(),
                run.wallTime().toNanos() / 1e6);
        out.print(memory);
        if (report.failure().isPresent()) {
            System.err.println("kemu: boot failed: " + report.failure().get());
            return 1;
        }
        return 0;
    }
}
