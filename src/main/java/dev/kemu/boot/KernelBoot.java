package dev.kemu.boot;

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
import dev.kemu.traps.TrapRouter;

import java.util.List;
import java.util.Optional;

/**
 * One boot of a firmware stub and a kernel in a fresh machine. The host's whole part in the
 * mode switches is the documented firmware handoff: it loads both images by physical
 * address, writes the Multiboot information, fills the firmware's two configuration words
 * ({@code fw_kernel_entry}, {@code fw_boot_info}) and starts at {@code fw_entry}. It sets no
 * register.
 */
public final class KernelBoot implements AutoCloseable {
    private final Machine machine;
    private final ElfImage firmware;
    private final ElfImage kernel;
    private final SymbolTable symbols;
    private final DebugConsole console = new DebugConsole();
    private final HypercallPort hypercalls = new HypercallPort();
    private final KernelServices services;
    private final FaultAnalyzer analyzer;
    private final TrapRouter faults;
    private final BootOptions options;

    public KernelBoot(KernelSources.BuiltImages images, BootOptions options) {
        this(ElfImage.read(images.firmware()), ElfImage.read(images.kernel()), options);
    }

    public KernelBoot(ElfImage firmware, ElfImage kernel, BootOptions options) {
        this.firmware = firmware;
        this.kernel = kernel;
        this.options = options;
        this.symbols = kernel.symbols().merge(firmware.symbols());
        this.machine = new Machine(options.ramBytes());
        this.services = new KernelServices(machine, hypercalls, symbols::symbolize);
        this.analyzer = new FaultAnalyzer(machine, symbols, services::memory);
        this.faults = new TrapRouter(services::memory, analyzer, options.onFault());
        machine.setExceptionHandler(faults);
        try {
            analyzer.traceBlocks(options.traceBlocks());
            machine.attach(DebugConsole.PORT, console);
            machine.attach(ExitPort.PORT, new ExitPort());
            machine.attachHypercalls(GuestAbi.HYPERCALL_PORT, hypercalls);
            ImageLoader.load(machine.ram(), firmware);
            ImageLoader.load(machine.ram(), kernel);
            ImageLoader.requireMultibootHeader(machine.ram(), kernel);
            MultibootInfo.write(machine.ram(), MultibootInfo.pcMemoryMap(options.ramBytes()), options.commandLine());
            machine.ram().write32(firmware.symbols().address("fw_kernel_entry"), (int) kernel.entry());
            machine.ram().write32(firmware.symbols().address("fw_boot_info"), (int) MultibootInfo.ADDRESS);
        } catch (RuntimeException e) {
            machine.close();
            throw e;
        }
    }

    public Machine machine() {
        return machine;
    }

    public ElfImage kernel() {
        return kernel;
    }

    /** Kernel and firmware symbols together. */
    public SymbolTable symbols() {
        return symbols;
    }

    public DebugConsole console() {
        return console;
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

    /** Runs from the firmware entry until RIP reaches {@code symbol}, uncounted and unobserved (for benchmarks). */
    public RunResult runTo(String symbol) {
        return machine.run(firmware.symbols().address("fw_entry"), symbols.address(symbol), RunLimits.UNCOUNTED);
    }

    /** Runs from the firmware entry until the guest stops, observing each stage. */
    public BootReport run() {
        StageLandmarks landmarks = StageLandmarks.of(firmware, kernel);
        try (BootObserver observer = new BootObserver(machine, landmarks, options.instructionBudget() > 0,
                event -> rememberKernelMode(landmarks, event))) {
            RunResult result = machine.run(firmware.symbols().address("fw_entry"),
                    new RunLimits(options.instructionBudget(), options.timeout()));
            List<StageEvent> stages = observer.events();
            return new BootReport(stages, console.text(), result, failure(observer, landmarks, result), faults.reports(),
                    faults.demandPagedFaults());
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
        String rip = symbols.symbolize(result.cpu().rip());
        // A kernel with a kmain must get there; one without must at least have been entered.
        BootStage goal = landmarks.kmain().isPresent() ? BootStage.KMAIN : BootStage.ENTRY_32;
        boolean arrived = observer.event(goal).isPresent();
        String missed = landmarks.kmainName().map(name -> "without reaching " + name).orElse("before the kernel entry");
        return switch (result.reason()) {
            case EXIT_PORT, HALTED -> arrived ? Optional.empty()
                    : Optional.of("the guest stopped " + where + " (" + result.detail() + " at " + rip + ") " + missed);
            case UNHANDLED_EXCEPTION -> Optional.of(String.format("%s %s: %s at %s; %s%s",
                    options.onFault() == FaultPolicy.DELIVER || result.cpu().idtr().limit() == 0 ? "triple fault" : "fault",
                    where, ExceptionVector.describe(result.vector()), rip,
                    result.cpu().idtr().limit() == 0 ? "no IDT is loaded, so the CPU cannot deliver it and resets"
                            : "not delivered (--on-fault=" + options.onFault().name().toLowerCase() + ")",
                    faults.reports().isEmpty() ? "" : "; " + faults.reports().getLast().reason()));
            case BUDGET_EXHAUSTED -> Optional.of("instruction budget of " + options.instructionBudget()
                    + " exhausted " + where + " at " + rip + " (an endless loop?)");
            case TIMEOUT -> Optional.of("timed out " + where + " at " + rip);
            case EMULATION_ERROR -> Optional.of("emulation error " + where + " at " + rip + ": " + result.detail());
            case HOST_REQUEST, REACHED_END -> Optional.of("stopped by the host " + where + " at " + rip);
        };
    }

    @Override
    public void close() {
        analyzer.close();
        machine.close();
    }
}
