package dev.kemu.cli;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootProtocol;
import dev.kemu.boot.KernelSources;
import dev.kemu.boot.MultibootModule;
import dev.kemu.debug.FaultPolicy;
import dev.kemu.machine.devices.SerialSource;
import dev.kemu.machine.interrupts.ClockMode;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Options shared by the commands that boot a kernel, checked before anything is built or booted. */
final class BootArguments {
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Option(names = "--kernel", paramLabel = "ELF", description = "Boot this kernel ELF instead of building kernel-asm/.")
    Path kernel;

    @Option(names = "--ram", paramLabel = "MiB", defaultValue = "64",
            description = "Guest RAM in MiB, from 2 to 3072 (default: ${DEFAULT-VALUE}).")
    long ramMiB;

    @Option(names = "--budget", paramLabel = "N", defaultValue = "10000000",
            description = "Instruction budget; the boot fails when it runs out. 0 runs uncounted at full speed "
                    + "(default: ${DEFAULT-VALUE}).")
    long budget;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "60s", converter = DurationConverter.class,
            description = "Wall-clock limit of the run, like 60s, 500ms or 2m; 0 means none (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--cmdline", paramLabel = "TEXT", defaultValue = "kemu", description = "Kernel command line (default: ${DEFAULT-VALUE}).")
    String commandLine;

    @Option(names = "--on-fault", paramLabel = "POLICY", defaultValue = "auto",
            description = "Faults demand paging does not resolve: auto (run the guest's IDT handler when it has a "
                    + "present gate, else report), report (stop and print the report), stop (stop quietly), "
                    + "deliver (always through the guest's IDT, as the CPU: #DF, triple fault). "
                    + "Default: ${DEFAULT-VALUE}.")
    String onFault;

    @Option(names = "--trace-blocks", paramLabel = "N", defaultValue = "0",
            description = "Keep the last N executed basic blocks for fault reports (default: 0, off).")
    int traceBlocks;

    @Option(names = "--module", paramLabel = "FILE[=CMDLINE]",
            description = "Load FILE as a Multiboot boot module after the kernel, page-aligned, with CMDLINE as its "
                    + "string (default: FILE). Repeatable; the kernel sees them in this order.")
    List<String> modules = new ArrayList<>();

    @Option(names = "--serial", paramLabel = "stdout|FILE|none", defaultValue = "stdout",
            description = "Where COM1's output goes: stdout (a section after the debug console, like QEMU's "
                    + "-serial stdio), a FILE written as the guest sends, or none (default: ${DEFAULT-VALUE}).")
    String serial;

    @Option(names = "--serial-input", paramLabel = "FILE|-",
            description = "What COM1 receives: the bytes of FILE, or - for standard input (default: nothing).")
    String serialInput;

    @Option(names = "--protocol", paramLabel = "auto|multiboot|multiboot2|limine", defaultValue = "auto",
            description = "The boot protocol to load the kernel with; auto takes the image's Limine requests, else "
                    + "its Multiboot 2 header, else its Multiboot header (default: ${DEFAULT-VALUE}).")
    String protocol;

    /** The forced boot protocol, empty for auto; a usage error for an unknown name. */
    Optional<BootProtocol> protocol() {
        try {
            return BootProtocol.parse(protocol);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
    }

    KernelSources.BuiltImages images() {
        KernelSources.BuiltImages images = KernelSources.defaults().build();
        return kernel == null ? images : new KernelSources.BuiltImages(images.firmware(), kernel);
    }

    /** The boot options, or a usage error naming the option, what is wrong with it and what to use. */
    @Option(names = "--cpus", paramLabel = "N", defaultValue = "1",
            description = "CPUs in the machine, 1 to 255 (default: ${DEFAULT-VALUE}); CPUID, the ACPI MADT and fw_cfg say so.")
    String cpus;

    @Option(names = "--numa", paramLabel = "N", defaultValue = "1",
            description = "NUMA nodes, 1 to 8 (default: ${DEFAULT-VALUE}): RAM split into N equal nodes, CPUs round-robin; the ACPI SRAT says so.")
    int numaNodes;

    @Option(names = "--clock", paramLabel = "instructions|host", defaultValue = "instructions",
            description = "Where timer time comes from: instructions (one instruction is 1 ns, the same interrupts at "
                    + "the same instructions on every run) or host (the host's clock, as QEMU without -icount: with "
                    + "--budget 0 nothing is counted; runs differ; one CPU) (default: ${DEFAULT-VALUE}).")
    String clock;

    BootOptions options() {
        long maxMiB = BootOptions.MAX_RAM >> 20, minMiB = BootOptions.MIN_RAM >> 20;
        if (ramMiB > maxMiB) {
            throw usage("--ram " + ramMiB + ": too large; kemu's PC memory map keeps guest RAM below the firmware "
                    + "under 4 GiB, so use at most " + maxMiB + " MiB");
        }
        if (ramMiB < minMiB) {
            throw usage("--ram " + ramMiB + ": too small; the kernel is loaded at 1 MiB and needs at least "
                    + minMiB + " MiB");
        }
        long hostMiB = hostMemoryMiB();
        if (hostMiB > 0 && ramMiB > hostMiB) {
            throw usage("--ram " + ramMiB + ": too large for this machine, which has " + hostMiB
                    + " MiB of physical memory; use less");
        }
        if (budget < 0) {
            throw usage("--budget " + budget + ": must be 0 (no limit, uncounted) or a positive number of instructions");
        }
        if (traceBlocks < 0) {
            throw usage("--trace-blocks " + traceBlocks + ": must be 0 (off) or a positive number of blocks");
        }
        FaultPolicy policy;
        try {
            policy = FaultPolicy.valueOf(onFault.toUpperCase());
        } catch (IllegalArgumentException e) {
            throw usage("--on-fault must be auto, report, stop or deliver, not '" + onFault + "'");
        }
        List<MultibootModule> bootModules = new ArrayList<>();
        for (String module : modules) {
            try {
                bootModules.add(MultibootModule.parse(module));
            } catch (IllegalArgumentException e) {
                throw usage(e.getMessage());
            }
        }
        int cpuCount = cpuCount();
        ClockMode clockMode = clockMode();
        if (clockMode == ClockMode.HOST && cpuCount > 1) {
            throw usage("--clock host with --cpus " + cpuCount + ": the CPUs take turns in counted slices of one clock, "
                    + "so host time runs one CPU; drop --clock host, or boot with --cpus 1");
        }
        return new BootOptions(ramMiB << 20, commandLine, budget, timeout, policy, traceBlocks, bootModules,
                serialSource(), cpuCount, numaNodeCount(), clockMode);
    }

    /** {@code --clock}: a usage error names the two choices. */
    private ClockMode clockMode() {
        try {
            return ClockMode.parse(clock);
        } catch (IllegalArgumentException e) {
            throw usage("--clock " + clock + ": " + ClockMode.CHOICES);
        }
    }

    /** {@code --cpus}, parsed here so that a wrong value gets a sentence saying what is allowed. */
    private int cpuCount() {
        int count;
        try {
            count = Integer.parseInt(cpus.trim());
        } catch (NumberFormatException e) {
            throw usage("--cpus " + cpus + ": not a number; give the number of CPUs, 1 to " + BootOptions.MAX_CPUS);
        }
        if (count < 1 || count > BootOptions.MAX_CPUS) {
            throw usage("--cpus " + count + ": a machine has 1 to " + BootOptions.MAX_CPUS
                    + " CPUs (each needs its own xAPIC ID; 255 is the broadcast ID)");
        }
        return count;
    }

    /** {@code --numa}: a usage error names the limit that the RAM or the node table sets. */
    private int numaNodeCount() {
        try {
            dev.kemu.boot.acpi.Srat.checkNodes(ramMiB << 20, numaNodes);
        } catch (IllegalArgumentException e) {
            throw usage("--numa " + numaNodes + ": " + e.getMessage());
        }
        return numaNodes;
    }

    /** COM1's input, a usage error when the file is not there. */
    private SerialSource serialSource() {
        if (serialInput == null) {
            return SerialSource.none();
        }
        SerialSource source = SerialSource.parse(serialInput);
        if (source instanceof SerialSource.File file && !java.nio.file.Files.isReadable(file.path())) {
            throw usage("--serial-input " + serialInput + ": no readable file there; give a file to send to COM1, "
                    + "or - for standard input");
        }
        return source;
    }

    CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(command.commandLine(), message);
    }

    /** The host's physical memory in MiB, or 0 when the JVM cannot tell. */
    static long hostMemoryMiB() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize() >> 20;
        }
        return 0;
    }
}
