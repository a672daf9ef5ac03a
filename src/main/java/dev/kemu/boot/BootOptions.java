package dev.kemu.boot;

import dev.kemu.debug.FaultPolicy;
import dev.kemu.machine.devices.SerialSource;
import dev.kemu.machine.interrupts.ClockMode;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How to boot: guest RAM size, kernel command line, the limits that stop a runaway guest,
 * what happens to faults demand paging does not resolve, how many recent basic blocks
 * fault reports show (0 = no block trace, the default), the boot modules the loader hands to the
 * kernel, what COM1 receives, how many CPUs the machine has (CPUID, the ACPI MADT and fw_cfg agree on it), in how many NUMA
 * nodes its RAM lies (the ACPI SRAT says which), and where device time comes from ({@link ClockMode}).
 */
public record BootOptions(long ramBytes, String commandLine, long instructionBudget, Duration timeout,
                          FaultPolicy onFault, int traceBlocks, List<MultibootModule> modules, SerialSource serialInput,
                          int cpus, int numaNodes, ClockMode clock) {
    public static final long DEFAULT_RAM = 64L << 20;
    public static final long DEFAULT_BUDGET = 10_000_000;
    /** The kernel is loaded at 1 MiB; below 2 MiB there is no room for it and the memory map above it. */
    public static final long MIN_RAM = 2L << 20;
    /**
     * {@link MultibootInfo#pcMemoryMap} lays RAM out contiguously from 0 and reserves the firmware just below
     * 4 GiB; 3 GiB keeps the two apart (real PCs leave that gap for PCI too).
     */
    public static final long MAX_RAM = 3L << 30;
    /** xAPIC IDs are 8 bits and 0xff is the broadcast ID: 255 CPUs at most (QEMU's limit without x2APIC too). */
    public static final int MAX_CPUS = 255;
    /** NUMA nodes {@code --numa} may ask for (as many proximity domains as kemu's mm root describes). */
    public static final int MAX_NUMA_NODES = dev.kemu.boot.acpi.Srat.MAX_NODES;

    public BootOptions {
        if (ramBytes < MIN_RAM || ramBytes > MAX_RAM || (ramBytes & 0xfff) != 0) {
            throw new IllegalArgumentException(String.format("guest RAM of %d bytes: must be a multiple of 4 KiB "
                    + "from %d MiB to %d MiB", ramBytes, MIN_RAM >> 20, MAX_RAM >> 20));
        }
        if (instructionBudget < 0) {
            throw new IllegalArgumentException("instruction budget " + instructionBudget + ": must be >= 0 (0 = uncounted)");
        }
        if (timeout == null || timeout.isNegative()) {
            throw new IllegalArgumentException("timeout " + timeout + ": must be zero (none) or positive");
        }
        if (traceBlocks < 0) {
            throw new IllegalArgumentException("block trace of " + traceBlocks + " blocks: must be >= 0 (0 = off)");
        }
        modules = List.copyOf(modules);
        Objects.requireNonNull(serialInput, "serial input (SerialSource.none() for none)");
        if (cpus < 1 || cpus > MAX_CPUS) {
            throw new IllegalArgumentException(cpus + " CPUs: a machine has 1 to " + MAX_CPUS + " CPUs (xAPIC IDs 0-254)");
        }
        dev.kemu.boot.acpi.Srat.checkNodes(ramBytes, numaNodes);
        Objects.requireNonNull(clock, "clock (ClockMode.INSTRUCTIONS for deterministic time)");
        if (clock == ClockMode.HOST && cpus > 1) {
            throw new IllegalArgumentException("host time with " + cpus + " CPUs: the CPUs of a machine take turns in "
                    + "counted slices of one clock, so host time runs one CPU; use the instructions clock with several");
        }
    }

    /** The options with the deterministic instruction clock (see {@link ClockMode}). */
    public BootOptions(long ramBytes, String commandLine, long instructionBudget, Duration timeout, FaultPolicy onFault,
                       int traceBlocks, List<MultibootModule> modules, SerialSource serialInput, int cpus, int numaNodes) {
        this(ramBytes, commandLine, instructionBudget, timeout, onFault, traceBlocks, modules, serialInput, cpus, numaNodes,
                ClockMode.INSTRUCTIONS);
    }

    /** The options for one CPU. */
    public BootOptions(long ramBytes, String commandLine, long instructionBudget, Duration timeout, FaultPolicy onFault,
                       int traceBlocks, List<MultibootModule> modules, SerialSource serialInput) {
        this(ramBytes, commandLine, instructionBudget, timeout, onFault, traceBlocks, modules, serialInput, 1, 1);
    }

    /** The options without boot modules and without serial input (how most boots start). */
    public BootOptions(long ramBytes, String commandLine, long instructionBudget, Duration timeout, FaultPolicy onFault,
                       int traceBlocks) {
        this(ramBytes, commandLine, instructionBudget, timeout, onFault, traceBlocks, List.of(), SerialSource.none(), 1, 1);
    }

    public static BootOptions defaults() {
        return new BootOptions(DEFAULT_RAM, "kemu", DEFAULT_BUDGET, Duration.ofSeconds(30), FaultPolicy.AUTO, 0);
    }

    public BootOptions withRam(long bytes) {
        return new BootOptions(bytes, commandLine, instructionBudget, timeout, onFault, traceBlocks, modules, serialInput, cpus, numaNodes, clock);
    }

    public BootOptions withBudget(long instructions) {
        return new BootOptions(ramBytes, commandLine, instructions, timeout, onFault, traceBlocks, modules, serialInput, cpus, numaNodes, clock);
    }

    public BootOptions withTimeout(Duration limit) {
        return new BootOptions(ramBytes, commandLine, instructionBudget, limit, onFault, traceBlocks, modules, serialInput, cpus, numaNodes, clock);
    }

    public BootOptions withCommandLine(String text) {
        return new BootOptions(ramBytes, text, instructionBudget, timeout, onFault, traceBlocks, modules, serialInput, cpus, numaNodes, clock);
    }

    public BootOptions withFaultPolicy(FaultPolicy policy) {
        return new BootOptions(ramBytes, commandLine, instructionBudget, timeout, policy, traceBlocks, modules, serialInput, cpus, numaNodes, clock);
    }

    public BootOptions withBlockTrace(int blocks) {
        return new BootOptions(ramBytes, commandLine, instructionBudget, timeout, onFault, blocks, modules, serialInput, cpus, numaNodes, clock);
    }

    public BootOptions withModules(List<MultibootModule> list) {
        return new BootOptions(ramBytes, commandLine, instructionBudget, timeout, onFault, traceBlocks, list, serialInput, cpus, numaNodes, clock);
    }

    /** COM1 receives from {@code source} (its LSR.DR is set while a byte of it waits). */
    public BootOptions withSerialInput(SerialSource source) {
        return new BootOptions(ramBytes, commandLine, instructionBudget, timeout, onFault, traceBlocks, modules, source, cpus, numaNodes, clock);
    }

    /** A machine with {@code count} CPUs (1 to {@link #MAX_CPUS}). */
    public BootOptions withCpus(int count) {
        return new BootOptions(ramBytes, commandLine, instructionBudget, timeout, onFault, traceBlocks, modules, serialInput,
                count, numaNodes, clock);
    }

    /** RAM split into {@code nodes} equal NUMA nodes (1 to {@link #MAX_NUMA_NODES}), which the ACPI SRAT describes. */
    public BootOptions withNumaNodes(int nodes) {
        return new BootOptions(ramBytes, commandLine, instructionBudget, timeout, onFault, traceBlocks, modules, serialInput,
                cpus, nodes, clock);
    }

    /** Device time from {@code mode}: deterministic instruction counts (the default) or the host's clock. */
    public BootOptions withClock(ClockMode mode) {
        return new BootOptions(ramBytes, commandLine, instructionBudget, timeout, onFault, traceBlocks, modules, serialInput,
                cpus, numaNodes, mode);
    }
}
