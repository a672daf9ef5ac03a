package dev.kemu.cli;

import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.debug.FaultAnalyzer;
import dev.kemu.debug.FaultReport;
import dev.kemu.elf.AddressExpression;
import dev.kemu.elf.ImageSections;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code kemu explain ADDRESS|SYMBOL[+OFFSET]}: what kemu knows of a virtual address after a boot. */
@Command(name = "explain", mixinStandardHelpOptions = true,
        description = {"Boot the kernel, then print what is known of ADDRESS: its symbol and source line, the regions "
                + "it lies in, its page walk and its VMA.",
                "ADDRESS is hex (0x...), decimal, a kernel symbol (kmain) or a symbol with an offset (kmain+0x10). "
                        + "The regions are the kernel image's ELF sections (.text, .rodata, .data, .bss) and, when the "
                        + "kernel initialised kemu's memory services, the direct map, the vmalloc area and the VMAs. The "
                        + "walk uses the final CR3 and paging mode (32-bit paging, PAE, 4-level or 5-level) and shows each "
                        + "level's table, index, entry and flags, and where it stops; a recursive (self-referencing) "
                        + "top-level entry is named with the window where it makes the tables appear."})
final class ExplainCommand implements Callable<Integer> {
    @Mixin
    BootArguments arguments = new BootArguments();

    @Parameters(paramLabel = "ADDRESS", description = "Hex (0x...), decimal, SYMBOL or SYMBOL+OFFSET.")
    String address;

    @Override
    public Integer call() {
        AddressExpression expression = AddressExpression.parse(address);
        try (KernelBoot boot = new KernelBoot(arguments.images(), arguments.options())) {
            // Resolved before the boot, so that a misspelt symbol costs no run.
            long va = expression.resolve(boot.symbols(), boot.kernel().path().toString());
            BootReport report = boot.run();
            FaultAnalyzer analyzer = boot.faultAnalyzer();
            System.out.printf("after the boot (%s, %s)%n", report.run().reason(), analyzer.symbolize(report.run().cpu().rip()));
            System.out.printf("address: V0x%x%n", va);
            System.out.println("symbol: " + analyzer.symbolize(va));
            List<String> regions = analyzer.regionsOf(va, ImageSections.read(boot.kernel().path()));
            System.out.println("region: " + (regions.isEmpty() ? "none that kemu knows" : String.join("; ", regions)));
            FaultReport.Walk walk = analyzer.explain(va);
            analyzer.pagingNotes(va).forEach(System.out::println);
            System.out.print(walk.text());
            analyzer.vmasAround(va).ifPresent(vmas -> System.out.println("vma: " + vmas.text()));
        }
        return 0;
    }
}
