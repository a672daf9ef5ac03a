package dev.kemu.cli;

import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.debug.FaultReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

/** {@code kemu explain ADDRESS}: the page walk and VMA of any virtual address after a boot. */
@Command(name = "explain", mixinStandardHelpOptions = true,
        description = {"Boot the kernel, then print the page walk and the VMA of ADDRESS.",
                "The walk uses the final CR3 and shows each level's table, index, entry and flags, and where it "
                        + "stops; then the VMA holding ADDRESS, or its neighbours."})
final class ExplainCommand implements Callable<Integer> {
    @Mixin
    BootArguments arguments = new BootArguments();

    @Parameters(paramLabel = "ADDRESS", description = "Virtual address, hex (0x...) or decimal.")
    String address;

    @Override
    public Integer call() {
        long va = parse(address);
        try (KernelBoot boot = new KernelBoot(arguments.images(), arguments.options())) {
            BootReport report = boot.run();
            FaultReport.Walk walk = boot.faultAnalyzer().explain(va);
            System.out.printf("after the boot (%s, %s)%n", report.run().reason(), boot.symbols().symbolize(report.run().cpu().rip()));
            System.out.print(walk.text());
            FaultReport.Vmas vmas = boot.faultAnalyzer().vmasAround(va);
            System.out.println("vma: " + vmas.text());
            System.out.println("symbol: " + boot.symbols().symbolize(va));
        }
        return 0;
    }

    private static long parse(String text) {
        try {
            String t = text.trim().toLowerCase().replace("_", "");
            return t.startsWith("0x") ? Long.parseUnsignedLong(t.substring(2), 16) : Long.parseUnsignedLong(t);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not an address: '" + text + "' (use hex like 0xffffffff80100000)");
        }
    }
}
