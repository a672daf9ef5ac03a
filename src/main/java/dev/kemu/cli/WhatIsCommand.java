package dev.kemu.cli;

import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.debug.WhatIs;
import dev.kemu.debug.WhatIsTarget;
import dev.kemu.elf.ImageSections;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

/** {@code kemu whatis ADDRESS|SYMBOL}: everything kemu knows about an address after a boot. */
@Command(name = "whatis", mixinStandardHelpOptions = true,
        description = {"Boot the kernel, then print everything kemu knows about ADDRESS: its symbol, regions and "
                + "translation; the frame's type and owner from the frame table (kernel image, page table of which "
                + "level and address space, slab of which cache, vmalloc, anonymous page and its reference count, free); "
                + "for a slab address the object index and whether it is allocated or free; the VMA.",
                "ADDRESS is P0x... (physical), V0x... or 0x... (virtual), decimal, SYMBOL or SYMBOL+OFFSET. Allocation "
                        + "and free sites are not recorded yet (they need --slub-debug=U, issue 17). On a kernel "
                        + "without kemu's memory services only the symbol, the regions and the walk are known."})
final class WhatIsCommand implements Callable<Integer> {
    @Mixin
    BootArguments arguments = new BootArguments();

    @Parameters(paramLabel = "ADDRESS", description = "P0x... (physical), V0x..., 0x..., decimal, SYMBOL or SYMBOL+OFFSET.")
    String address;

    @Override
    public Integer call() {
        try (KernelBoot boot = new KernelBoot(arguments.images(), arguments.options(), arguments.protocol())) {
            // Resolved before the boot, so that a misspelt symbol costs no run.
            WhatIsTarget target = WhatIsTarget.parse(address, boot.symbols(), boot.kernel().path().toString());
            BootReport report = boot.run();
            System.out.printf("after the boot (%s, %s)%n", report.run().reason(),
                    boot.faultAnalyzer().symbolize(report.run().cpu().rip()));
            System.out.print(WhatIs.text(target, boot.machine(), boot.faultAnalyzer(),
                    ImageSections.read(boot.kernel().path()), boot.services().memory()));
        }
        return 0;
    }
}
