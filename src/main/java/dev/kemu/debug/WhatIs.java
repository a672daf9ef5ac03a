package dev.kemu.debug;

import dev.kemu.elf.ImageSections;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.machine.CpuState;
import dev.kemu.machine.Machine;
import dev.kemu.machine.PhysAddr;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code kemu whatis}: everything kemu knows about one address, as labelled lines in the fault report's style.
 * A virtual address gets its symbol, regions, translation under the current CR3 and VMA; the frame behind it
 * (or a physical address given directly) gets its type and owner from the frame table in guest RAM, and a slab
 * address its cache, object index and allocation state. Without kemu's memory services the lines say so and
 * keep what is still known (symbol, regions, walk).
 */
public final class WhatIs {
    private WhatIs() {}

    public static List<String> lines(WhatIsTarget target, Machine machine, FaultAnalyzer analyzer,
                                     ImageSections kernelSections, Optional<KernelMemory> memory) {
        List<String> lines = new ArrayList<>();
        Optional<Long> pa;
        if (target.physical()) {
            lines.add("address: " + target);
            pa = Optional.of(target.address());
            memory.ifPresent(m -> {
                if (Long.compareUnsigned(target.address(), m.root().ramBytes()) < 0) {
                    lines.add("virtual: " + m.root().toVirtual(PhysAddr.of(target.address())) + " in the direct map");
                }
            });
        } else {
            long va = target.address();
            lines.add("address: " + target);
            String symbol = analyzer.symbolize(va);
            lines.add("symbol: " + (symbol.equals("0x" + Long.toHexString(va)) ? "none (no kernel or snippet symbol covers it)"
                    : symbol));
            List<String> regions = analyzer.regionsOf(va, kernelSections);
            lines.add("region: " + (regions.isEmpty() ? "none that kemu knows" : String.join("; ", regions)));
            // The analyzer's walk, in the CPU's paging mode (none, 32-bit, PAE, 4- or 5-level) as explain shows it.
            FaultReport.Walk walk = analyzer.explain(va);
            pa = physicalOf(walk);
            CpuState cpu = machine.cpu();
            if (pa.isPresent()) {
                lines.add(String.format("physical: P0x%x (%s, CR3 %s)", pa.get(), walk.mode(), PhysAddr.of(cpu.cr3())));
            } else {
                lines.add("physical: none: not mapped under CR3 " + PhysAddr.of(cpu.cr3()) + " ("
                        + (walk.stopped() != null ? walk.stopped() : "the walk found no page") + ")");
            }
        }
        if (memory.isEmpty()) {
            lines.add("frame: unknown: the kernel did not initialise kemu's memory services, so guest RAM holds no frame "
                    + "table, slabs or VMAs kemu can read");
        } else if (pa.isPresent()) {
            FrameFacts.describe(memory.get(), pa.get(), lines, analyzer::symbolize);
        }
        if (!target.physical()) {
            analyzer.vmasAround(target.address()).ifPresent(vmas -> lines.add("vma: " + vmas.text()));
        }
        return lines;
    }

    public static String text(WhatIsTarget target, Machine machine, FaultAnalyzer analyzer,
                              ImageSections kernelSections, Optional<KernelMemory> memory) {
        return String.join("\n", lines(target, machine, analyzer, kernelSections, memory)) + "\n";
    }

    /** The physical address the walk reached ("P0x..."), empty when it stopped. */
    private static Optional<Long> physicalOf(FaultReport.Walk walk) {
        if (walk.physical() == null || !walk.physical().startsWith("P0x")) {
            return Optional.empty();
        }
        return Optional.of(Long.parseUnsignedLong(walk.physical().substring(3), 16));
    }
}
