package dev.kemu.boot;

import dev.kemu.boot.acpi.AcpiTables;
import dev.kemu.boot.limine.LimineKernel;
import dev.kemu.debug.FaultAnalyzer;
import dev.kemu.debug.FaultPolicy;
import dev.kemu.elf.ElfImage;
import dev.kemu.elf.SymbolTable;
import dev.kemu.kernel.GuestAbi;
import dev.kemu.kernel.HypercallPort;
import dev.kemu.kernel.KernelServices;
import dev.kemu.machine.ExceptionVector;
import dev.kemu.machine.Machine;
import dev.kemu.machine.RunLimits;
import dev.kemu.machine.RunResult;
import dev.kemu.machine.devices.DebugConsole;
import dev.kemu.machine.devices.ExitPort;
import dev.kemu.machine.devices.FwCfg;
import dev.kemu.machine.devices.Uart16550;
import dev.kemu.machine.interrupts.PcInterrupts;
import dev.kemu.machine.smp.CpuSet;
import dev.kemu.machine.smp.SmpRunResult;
import dev.kemu.traps.TrapRouter;

import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * One boot of a firmware stub and a kernel in a fresh machine. The host's whole part in the
 * mode switches is the documented firmware handoff: it loads both images by physical
 * address, writes what the kernel's boot protocol hands over (the Multiboot 1 or 2 information,
 * or the Limine responses and page tables), fills the firmware's configuration words
 * ({@link FirmwareWords}) and starts at the protocol's firmware entry. It sets no register.
 */
public final class KernelBoot implements AutoCloseable {
    private final Machine machine;
    private final ElfImage firmware;
    private final ElfImage kernel;
    private final BootableKernel loaded;
    private final Handoff handoff;
    private final SymbolTable symbols;
    private final DebugConsole console = new DebugConsole();
    private final Uart16550 com1 = new Uart16550("COM1", Uart16550.COM1);
    private final Uart16550 com2 = new Uart16550("COM2", Uart16550.COM2);
    private final HypercallPort hypercalls = new HypercallPort();
    private final KernelServices services;
    private final FaultAnalyzer analyzer;
    private final TrapRouter faults;
    private final BootOptions options;
    private AcpiTables.Placement acpi;
    private CpuSet cpus;
    /** The CPU whose stop ended the last run (0 with one CPU). */
    private int stoppedCpu;

    public KernelBoot(KernelSources.BuiltImages images, BootOptions options) {
        this(images, options, Optional.empty());
    }

    /** Boots with {@code protocol}, or the protocol the image carries when empty ({@link KernelImages}). */
    public KernelBoot(KernelSources.BuiltImages images, BootOptions options, Optional<BootProtocol> protocol) {
        this(ElfImage.read(images.firmware()), KernelImages.read(images.kernel(), protocol), options);
    }

    /** Loads {@code kernel} as its protocol's loader does ({@link BootableKernel#load}). */
    public KernelBoot(ElfImage firmware, BootableKernel kernel, BootOptions options) {
        this.firmware = firmware;
        this.loaded = kernel;
        this.kernel = kernel.image();
        this.options = options;
        this.symbols = this.kernel.symbols().merge(firmware.symbols());
        this.machine = new Machine(options.ramBytes());
        this.services = new KernelServices(machine, hypercalls, symbols::symbolize);
        this.analyzer = new FaultAnalyzer(machine, symbols, services::memory);
        this.faults = new TrapRouter(services::memory, analyzer, options.onFault());
        machine.setExceptionHandler(faults);
        faults.onUnresolvedPageFault(e -> services.unresolvedPageFault(e.cr2(), e.errorCodeOrMinusOne(), e.rip(), e.machine()));
        try {
            analyzer.traceBlocks(options.traceBlocks());
            machine.attach(DebugConsole.PORT, console);
            machine.attach(ExitPort.PORT, new ExitPort());
            machine.bus().claimPorts(Uart16550.COM1, Uart16550.PORTS, com1);
            machine.bus().claimPorts(Uart16550.COM2, Uart16550.PORTS, com2);
            com1.connectIrq(machine.attachPcInterrupts(options.clock()).isaIrq(PcInterrupts.COM1_IRQ));
            com1.receiveFrom(options.serialInput().open());
            machine.attachHypercalls(GuestAbi.HYPERCALL_PORT, hypercalls);
            machine.bus().claimPorts(FwCfg.SELECTOR_PORT, FwCfg.PORTS, new FwCfg(options.ramBytes(), options.cpus()));
            ImageLoader.load(machine.ram(), firmware);
            acpi = AcpiTables.write(machine.ram(), options.cpus(), options.numaNodes()); // first: the loaders hand its RSDP over (AcpiRsdp)
            this.handoff = kernel.load(machine.ram(), firmware, options);
            cpus = new CpuSet(machine, options.cpus()); // CPUID answers as cpu0 of N; the APs wait for INIT/STARTUP
            cpus.attachHypercalls(GuestAbi.HYPERCALL_PORT, hypercalls);
            services.serveOtherCpus(IntStream.range(1, cpus.count()).mapToObj(cpus::machine).toList());
            serveFaultsOnEveryCpu();
        } catch (RuntimeException e) {
            if (cpus != null) {
                cpus.close();
            }
            machine.close();
            throw e;
        }
    }

    /** With several CPUs every one routes its faults through the trap router, and every report names its CPU. */
    private void serveFaultsOnEveryCpu() {
        if (cpus.count() == 1) {
            return; // one CPU: reports name none, as before --cpus existed
        }
        analyzer.nameCpu("cpu0");
        for (int id = 1; id < cpus.count(); id++) {
            Machine ap = cpus.machine(id);
            faults.serveCpu(ap, analyzer.forCpu(ap, "cpu" + id));
        }
    }

    public Machine machine() {
        return machine;
    }

    /**
     * The machine's CPUs: cpu0 is {@link #machine()}, the others wait for INIT and STARTUP IPIs. {@link #run()}
     * runs cpu0 only until the local APIC (which sends those IPIs) is connected to this set's router.
     */
    public CpuSet cpus() {
        return cpus;
    }

    /** Where the loader put the ACPI tables; {@code acpi().rsdp()} is the RSDP a kernel's scan finds. */
    public AcpiTables.Placement acpi() {
        return acpi;
    }

    public ElfImage kernel() {
        return kernel;
    }

    /** The kernel as its protocol's loader read it. */
    public BootableKernel loadedKernel() {
        return loaded;
    }

    /** The protocol kemu boots the kernel with. */
    public BootProtocol protocol() {
        return loaded.protocol();
    }

    /** How the firmware hands over: its entry, the kernel's entry, the state the protocol promises. */
    public Handoff handoff() {
        return handoff;
    }

    /** One line per thing the loader accepted without honouring it (e.g. a requested video mode). */
    public List<String> loaderNotes() {
        return handoff.notes();
    }

    /**
     * Runs kemu's firmware stub until the first instruction of the kernel (not executed), uncounted: the CPU
     * state there is the protocol's handoff.
     */
    public RunResult runToKernelEntry() {
        if (loaded instanceof LimineKernel limine && limine.startsApplicationProcessors(cpus.count())) {
            throw new IllegalStateException("runToKernelEntry runs the bootstrap CPU alone, but with " + cpus.count()
                    + " CPUs and an SMP request the firmware waits for the APs to park before the Limine entry; "
                    + "use run() or boot with one CPU");
        }
        return machine.run(firstInstruction(), handoff.kernelEntry(), RunLimits.UNCOUNTED);
    }

    /** Kernel and firmware symbols together. */
    public SymbolTable symbols() {
        return symbols;
    }

    public DebugConsole console() {
        return console;
    }

    /** The first serial port, at 0x3f8: what the guest sent, and where it receives from. */
    public Uart16550 com1() {
        return com1;
    }

    /** The second serial port, at 0x2f8 (receives nothing). */
    public Uart16550 com2() {
        return com2;
    }

    /** What the guest did with the serial ports and unclaimed ports so far. */
    public DeviceActivity deviceActivity() {
        return new DeviceActivity(com1.text(), com2.text(), machine.bus().unclaimedPorts().ranges());
    }

    /**
     * The serial ports back to their power-on registers with their output cleared, and the
     * unclaimed-port counts cleared (device state is not in a {@link dev.kemu.machine.Snapshot}).
     * What COM1 receives from stays as it is: a test sets it before its run.
     */
    public void resetDevices() {
        for (Uart16550 uart : new Uart16550[]{com1, com2}) {
            uart.reset();
            uart.clearOutput();
        }
        for (int cpu = 0; cpu < cpus.count(); cpu++) {
            cpus.machine(cpu).interrupts().ifPresent(PcInterrupts::reset);
        }
        machine.bus().unclaimedPorts().clear();
    }

    public HypercallPort hypercalls() {
        return hypercalls;
    }

    /** The memory services the guest calls; initialised when the guest makes HC_MM_INIT. */
    public KernelServices services() {
        return services;
    }

    public FaultAnalyzer faultAnalyzer() {
        return analyzer;
    }

    /** Routes every CPU exception and keeps the fault reports of the run. */
    public TrapRouter faults() {
        return faults;
    }

    /** The first instruction the CPU executes: the firmware stub's entry, which hands off to the kernel. */
    public long firstInstruction() {
        return firmware.symbols().address(handoff.firmwareEntry());
    }

    /** Runs from the firmware entry until RIP reaches {@code symbol}, uncounted and unobserved (for benchmarks). */
    public RunResult runTo(String symbol) {
        return machine.run(firstInstruction(), symbols.address(symbol), RunLimits.UNCOUNTED);
    }

    /**
     * Several CPUs: the set's round-robin turns (docs/smp.md) until the exit port, a fault, or every CPU halted;
     * the stop of the CPU that ended the run, with the instructions of all of them and its name.
     */
    private RunResult runAllCpus() {
        long started = System.nanoTime();
        SmpRunResult run = cpus.run(firstInstruction(), options.instructionBudget(), options.timeout());
        stoppedCpu = run.cpu();
        RunResult last = run.last();
        return new RunResult(last.reason(), last.cpu(), run.totalInstructions(), last.exitCode(), last.vector(),
                java.time.Duration.ofNanos(System.nanoTime() - started), run.detail(), last.cause());
    }

    /** Runs from the firmware entry until the guest stops, observing each stage. */
    public BootReport run() {
        StageLandmarks landmarks = StageLandmarks.of(firmware, kernel, handoff);
        try (BootObserver observer = new BootObserver(machine, landmarks, options.instructionBudget() > 0,
                event -> rememberKernelMode(landmarks, event))) {
            if (cpus.count() > 1) {
                observer.nameCpu("cpu0"); // the stages are the bootstrap CPU's
            }
            RunResult result = cpus.count() > 1 ? runAllCpus()
                    : machine.run(firstInstruction(), new RunLimits(options.instructionBudget(), options.timeout()));
            List<StageEvent> stages = observer.events();
            return new BootReport(stages, console.text(), result, failure(observer, landmarks, result), faults.reports(),
                    faults.demandPagedFaults(), deviceActivity());
        }
    }

    /**
     * Faults taken later in ring 3 are delivered to a kernel handler from the privilege state kept here:
     * at kmain when the kernel has one, otherwise where 64-bit mode begins.
     */
    private void rememberKernelMode(StageLandmarks landmarks, StageEvent event) {
        BootStage kernelMode = landmarks.kmain().isPresent() ? BootStage.KMAIN : BootStage.LONG_MODE;
        if (event.stage() == kernelMode) {
            machine.rememberKernelMode();
        }
    }

    private Optional<String> failure(BootObserver observer, StageLandmarks landmarks, RunResult result) {
        String where = observer.lastStage().map(s -> "in stage '" + s.title() + "'").orElse("before the firmware handoff");
        if (cpus.count() > 1) {
            // The stages are the bootstrap CPU's: an AP's stop says where cpu0 was.
            where = stoppedCpu == 0 ? "on cpu0 " + where : "on cpu" + stoppedCpu + " (cpu0 " + where + ")";
        }
        String rip = symbols.symbolize(result.cpu().rip());
        // A kernel with a kmain must get there; one without must at least have been entered.
        BootStage goal = landmarks.kmain().isPresent() ? BootStage.KMAIN : handoff.state().entryStage();
        boolean arrived = observer.event(goal).isPresent();
        String missed = landmarks.kmainName().map(name -> "without reaching " + name).orElse("before the kernel entry");
        return switch (result.reason()) {
            // The exit port's value is the outcome, wherever the kernel wrote it (QEMU's isa-debug-exit).
            case EXIT_PORT -> Optional.empty();
            case HALTED -> arrived ? Optional.empty()
                    : Optional.of("the guest stopped " + where + " (" + result.detail() + " at " + rip + ") " + missed);
            case UNHANDLED_EXCEPTION -> Optional.of(String.format("%s %s: %s at %s; %s%s",
                    options.onFault() == FaultPolicy.DELIVER || faults.tripleFault().isPresent()
                            || result.cpu().idtr().limit() == 0 ? "triple fault" : "fault",
                    where, ExceptionVector.describe(result.vector()), rip,
                    result.cpu().idtr().limit() == 0 ? "no IDT is loaded, so the CPU cannot deliver it and resets"
                            : "not delivered (--on-fault=" + options.onFault().name().toLowerCase() + ")",
                    faults.reports().isEmpty() ? "" : "; " + faults.reports().getLast().reason()));
            case BUDGET_EXHAUSTED -> Optional.of("instruction budget of " + options.instructionBudget()
                    + " exhausted " + where + " at " + rip + " (an endless loop?)");
            case TIMEOUT -> Optional.of("timed out " + where + " at " + rip);
            case EMULATION_ERROR -> Optional.of("emulation error " + where + " at " + rip + ": " + result.detail());
            case KERNEL_PANIC -> Optional.of("kernel metadata corrupted " + where + " at " + rip + ": " + result.detail());
            case HOST_REQUEST, REACHED_END -> Optional.of("stopped by the host " + where + " at " + rip);
        };
    }

    @Override
    public void close() {
        analyzer.close();
        cpus.close();
        machine.close();
    }
}
