package dev.kemu.cli;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.KernelSources;
import dev.kemu.debug.FaultPolicy;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;

/** Options shared by the commands that boot a kernel. */
final class BootArguments {
    @Option(names = "--kernel", description = "Boot this kernel ELF instead of building kernel-asm/.")
    Path kernel;

    @Option(names = "--ram", defaultValue = "64", description = "Guest RAM in MiB (default: ${DEFAULT-VALUE}).")
    long ramMiB;

    @Option(names = "--budget", defaultValue = "10000000",
            description = "Instruction budget; the boot fails when it runs out (default: ${DEFAULT-VALUE}).")
    long budget;

    @Option(names = "--cmdline", defaultValue = "kemu", description = "Kernel command line (default: ${DEFAULT-VALUE}).")
    String commandLine;

    @Option(names = "--on-fault", defaultValue = "report",
            description = "Faults demand paging does not resolve: report (stop and print the report), stop (stop "
                    + "quietly), deliver (run the guest's IDT handler). Default: ${DEFAULT-VALUE}.")
    String onFault;

    @Option(names = "--trace-blocks", defaultValue = "0",
            description = "Keep the last N executed basic blocks for fault reports (default: off).")
    int traceBlocks;

    KernelSources.BuiltImages images() {
        KernelSources.BuiltImages images = KernelSources.defaults().build();
        return kernel == null ? images : new KernelSources.BuiltImages(images.firmware(), kernel);
    }

    BootOptions options() {
        FaultPolicy policy;
        try {
            policy = FaultPolicy.valueOf(onFault.toUpperCase());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--on-fault must be report, stop or deliver, not '" + onFault + "'");
        }
        return new BootOptions(ramMiB << 20, commandLine, budget, Duration.ofSeconds(60), policy, traceBlocks);
    }
}
