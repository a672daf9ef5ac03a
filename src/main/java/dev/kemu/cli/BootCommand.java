package dev.kemu.cli;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;
import dev.kemu.boot.PageTableHistory;
import dev.kemu.boot.StageEvent;
import dev.kemu.debug.FaultPolicy;
import dev.kemu.debug.FaultReport;
import dev.kemu.debug.MemoryReport;
import dev.kemu.elf.SymbolTable;
import dev.kemu.kernel.slab.SlubDebug;
import dev.kemu.kernel.slab.SlubReport;
import dev.kemu.machine.Machine;
import dev.kemu.machine.RunResult;
import dev.kemu.machine.interrupts.ClockMode;
import dev.kemu.toolchain.keystone.KeystoneImage;
import dev.kemu.toolchain.keystone.KeystoneModule;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code kemu boot}: builds and boots the kernel, printing each stage, the console and a summary. */
@Command(name = "boot", mixinStandardHelpOptions = true,
        description = {"Build the kernel in kernel-asm/, boot it and print every stage, the console and a summary.",
                "The kernel boots through kemu's firmware stub; each boot stage is printed with its CPU state, then "
                        + "the debug console (port 0xE9), COM1 (port 0x3f8, see --serial) and a summary.",
                "The exit status is the guest's exit-port value v as (v << 1) | 1, as under QEMU's isa-debug-exit; "
                        + "0 when the kernel halts after kmain; 4 when it does not reach kmain or stop cleanly; "
                        + "2 for a usage error or an unusable kernel, tool or library; 70 for an internal error."})
final class BootCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    BootArguments arguments = new BootArguments();

    @Mixin
    GdbOptions gdb = new GdbOptions();

    @Option(names = "--mm", description = "After the run, print the physical memory map, slabinfo and the VMAs.")
    boolean memoryReport;

    @Option(names = "--slub-debug", paramLabel = "MODES",
            description = "Slab debug modes as Linux's slub_debug: letters F (consistency checks on alloc and free), "
                    + "Z (red zones), P (poisoning), U (alloc/free sites), optionally ,CACHE,... to limit them "
                    + "(e.g. FZPU or FZ,kmalloc-32). Findings are printed after the run (docs/slub-debug.md).")
    String slubDebug;
    @Option(names = "--kasan", description = "Catch guest accesses to freed slab objects, past their end and into "
            + "vmalloc guard pages at the faulting instruction, in KASAN's report shape (docs/kasan.md).")
    boolean kasan;
    @Option(names = "--leaks", description = "After the run, report allocated objects no pointer in guest RAM reaches "
            + "(a kmemleak-style scan, docs/leaks.md).")
    boolean leaks;

    @Option(names = "--mm-svg", paramLabel = "FILE",
            description = "After the run, draw physical memory, the virtual address space and the slab caches "
                    + "into the SVG file FILE (docs/memory-pictures.md).")
    Path memorySvg;

    @Option(names = "--fault-format", paramLabel = "FORMAT", defaultValue = "text",
            description = "Fault reports as text or json (one object per line on stdout, the rest on stderr; "
                    + "schema in docs/fault-report.md).")
    String faultFormat;

    @Option(names = "--pt-history",
            description = "When the last fault's page walk ends at an entry, name the instruction that last wrote that "
                    + "entry (the boot runs a second time with a write hook on that entry only).")
    boolean pageTableHistory;

    @Option(names = "--report", paramLabel = "FILE",
            description = "Write the fault reports to FILE instead of the standard output.")
    Path reportFile;

    @Option(names = "--assembler", paramLabel = "gnu|keystone", defaultValue = "gnu",
            description = "Who assembles the kernel's code: gnu (as and ld, the default) or keystone (ld still links "
                    + "the ELF; every code section is then assembled by Keystone at its link address and replaces "
                    + "GNU's bytes; docs/keystone.md).")
    String assembler;

    @Override
    public Integer call() {
        boolean json = switch (faultFormat.toLowerCase(Locale.ROOT)) {
            case "text" -> false;
            case "json" -> true;
            default -> throw arguments.usage("--fault-format " + faultFormat + ": unknown format; use one of: text, json");
        };
        if (gdb.requested()) {
            return gdb.serve(arguments, spec.commandLine().getErr());
        }
        BootOptions options = arguments.options();
        SlubDebug slubModes;
        try {
            slubModes = slubDebug == null ? SlubDebug.OFF : SlubDebug.parse(slubDebug);
        } catch (IllegalArgumentException e) {
            throw arguments.usage(e.getMessage());
        }
        KernelSources.BuiltImages images = arguments.images();
        List<String> assembled = switch (assembler.toLowerCase(Locale.ROOT)) {
            case "gnu" -> List.of();
            case "keystone" -> {
                if (arguments.kernel != null) {
                    throw arguments.usage("--assembler keystone assembles kernel-asm/; it cannot apply to --kernel "
                            + arguments.kernel + " (drop one of the two)");
                }
                if (!KeystoneModule.available()) {
                    throw arguments.usage("--assembler keystone: " + KeystoneModule.unavailableReason().orElseThrow());
                }
                KernelSources sources = KernelSources.defaults();
                KeystoneImage.Result keystone = KeystoneImage.build(images.kernel(), sources.kernelFiles(),
                        List.of(sources.includeDir()), images.kernel().resolveSibling("kernel-keystone.elf"));
                images = new KernelSources.BuiltImages(images.firmware(), keystone.elf());
                yield keystone.sections().stream().map(KeystoneImage.Section::describe).toList();
            }
            default -> throw arguments.usage("--assembler " + assembler + ": unknown assembler; use gnu or keystone");
        };
        // With JSON, stdout carries nothing but reports, so that `kemu boot --fault-format json | jq .` works.
        PrintWriter human = json ? spec.commandLine().getErr() : spec.commandLine().getOut();
        BootReport report;
        String memory = "";
        String resolvedKinds;
        List<SlubReport> slubReports;
        List<dev.kemu.kernel.kasan.KasanReport> kasanReports;
        SymbolTable symbols;
        SerialOutput serial = SerialOutput.of(arguments);
        try (serial; KernelBoot boot = new KernelBoot(images, options, arguments.protocol())) {
            symbols = boot.symbols();
            serial.attach(boot.com1());
            human.printf("kemu boot: %s (%s), %d MiB RAM, libunicorn %s%n", images.kernel(), boot.protocol(),
                    options.ramBytes() >> 20,
                    Machine.engineVersion().replaceFirst(" from .*", ""));
            if (options.clock() == ClockMode.HOST) {
                human.println("note: --clock host: timers follow the host's clock, so interrupts land at other "
                        + "instructions on every run (docs/interrupts.md, \"Host time\")");
            }
            assembled.forEach(line -> human.println("assembler: " + line));
            boot.loaderNotes().forEach(note -> human.println("note: " + note));
            boot.services().slubDebug(slubModes);
            boot.services().kasan(kasan);
            report = boot.run();
            kasanReports = boot.services().kasanReports();
            slubReports = slubDebug == null ? List.of() : boot.services().validateSlabs();
            resolvedKinds = boot.faults().resolvedFaults().summary();
            if (memoryReport) {
                memory = boot.services().memory().map(MemoryReport::of)
                        .orElse(MemoryOutputs.NO_MEMORY_SERVICES);
            }
            if (leaks) {
                memory += MemoryOutputs.leaks(boot);
            }
            if (memorySvg != null) {
                memory += MemoryOutputs.writeSvg(boot, memorySvg, arguments);
            }
        }
        for (StageEvent event : report.stages()) {
            // Where the stage was reached, when that says more than a label at the stage's own address:
            // an offset into a symbol, or a source line (a kernel built with gcc -g).
            long rip = event.cpu().rip();
            boolean informative = symbols.sourceLine(rip).isPresent() || symbols.symbolOnly(rip).contains("+0x");
            human.println(informative ? event.line() + "  at " + symbols.symbolize(rip) : event.line());
        }
        human.println("--- debug console ---");
        human.print(report.console());
        if (!report.console().isEmpty() && !report.console().endsWith("\n")) {
            human.println();
        }
        serial.show(report.devices(), human);
        human.println("--- summary ---");
        human.println(summary(report));
        if (report.demandPagedFaults() > 0) {
            human.println("resolved page faults: " + resolvedKinds);
        }
        if (!report.devices().unclaimedPorts().isEmpty()) {
            human.println("unclaimed ports (read as all ones, writes dropped): " + String.join(", ",
                    report.devices().unclaimedPorts().stream().map(Object::toString).toList()));
        }
        if (options.onFault() != FaultPolicy.STOP) {
            writeReports(report, json, json ? spec.commandLine().getOut() : human);
        }
        if (kasan) {
            kasanReports.forEach(r -> human.println(r.text()));
            human.printf("kasan: %d report(s)%n", kasanReports.size());
        }
        if (slubDebug != null) {
            slubReports.forEach(r -> human.print(r.text()));
            human.printf("slub debug (%s): %d report(s)%n", slubDebug, slubReports.size());
        }
        if (pageTableHistory) {
            PageTableHistory.explain(images, options, arguments.protocol(), report.faults()).ifPresentOrElse(human::print,
                    () -> human.println("page-table history: " + (report.faults().isEmpty() ? "no fault report"
                            : "the last fault's walk ended at no entry") + ", so there is no entry to trace"));
        }
        human.print(memory);
        human.flush();
        ExitStatus.Explained status = ExitStatus.of(report);
        spec.commandLine().getErr().println("kemu: " + status.message());
        spec.commandLine().getErr().flush();
        return status.status();
    }

    private static String summary(BootReport report) {
        RunResult run = report.run();
        String counted = run.counted() ? run.instructions() + " instructions"
                : "instructions not counted (--budget 0)";
        return String.format(Locale.ROOT, "stopped: %s (%s), %s, %.2f ms, %d demand-paged faults", run.reason(),
                run.detail(), counted, run.wallTime().toNanos() / 1e6, report.demandPagedFaults());
    }

    private void writeReports(BootReport report, boolean json, PrintWriter standard) {
        StringBuilder text = new StringBuilder();
        for (FaultReport fault : report.faults()) {
            text.append(json ? fault.json() + "\n" : fault.text());
        }
        if (reportFile == null) {
            standard.print(text);
            standard.flush();
            return;
        }
        try {
            Files.writeString(reportFile, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw arguments.usage("--report " + reportFile + ": cannot write the fault reports there (" + e + ")");
        }
    }
}
