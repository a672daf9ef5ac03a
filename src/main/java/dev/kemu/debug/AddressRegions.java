package dev.kemu.debug;

import dev.kemu.machine.VirtAddr;
import dev.kemu.elf.ImageSections;
import dev.kemu.elf.SymbolTable;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.mm.MmRoot;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Names the regions kemu knows a virtual address to lie in, most specific last: a section of the
 * kernel image (from its ELF section headers), guest code loaded after boot (a test snippet), and,
 * only when the kernel initialised kemu's memory services, the direct map, the vmalloc area and a VMA.
 * A kernel of its own may use those addresses for anything, so without the services they are not named.
 */
public final class AddressRegions {
    private AddressRegions() {}

    public static List<String> of(long va, ImageSections kernelSections, SymbolTable loadedCode,
                                  Optional<KernelMemory> memory) {
        List<String> regions = new ArrayList<>();
        kernelSections.containing(va).ifPresent(s -> regions.add(String.format(
                "kernel image section %s [V0x%x, V0x%x)", s.name(), s.address(), s.address() + s.size())));
        loadedCode.containing(va).ifPresent(s -> regions.add("snippet area (guest code loaded after boot, "
                + loadedCode.symbolOnly(va) + ")"));
        memory.ifPresent(m -> addMemoryServiceRegions(va, m, regions));
        return regions;
    }

    private static void addMemoryServiceRegions(long va, KernelMemory memory, List<String> regions) {
        MmRoot root = memory.root();
        long directMap = root.directMapBase().value();
        if (Long.compareUnsigned(va - directMap, root.ramBytes()) < 0) {
            regions.add(String.format("direct map of RAM [V0x%x, V0x%x): physical P0x%x", directMap,
                    directMap + root.ramBytes(), va - directMap));
        }
        if (Long.compareUnsigned(va, root.vmallocStart().value()) >= 0 && Long.compareUnsigned(va, root.vmallocEnd().value()) < 0) {
            regions.add(String.format("vmalloc area [%s, %s)", root.vmallocStart(), root.vmallocEnd()));
        }
        memory.areas().find(VirtAddr.of(va)).ifPresent(vma -> regions.add("VMA " + vma));
    }
}
