package dev.kemu.debug.svg;

import dev.kemu.kernel.mm.AddressSpace;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.mm.MmRoot;
import dev.kemu.kernel.mm.SpaceVma;
import dev.kemu.kernel.mm.Vma;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The virtual address space as rows of regions in address order, drawn on a segmented logarithmic scale:
 * each region's width grows with log2 of its size, so a 4 KiB guard page stays visible beside a 64 MiB
 * direct map, and the holes between regions shrink to a fixed-width gap marker.
 */
final class VirtualLayout {
    static final double GAP = 8;
    static final double MIN_WIDTH = 6;

    private VirtualLayout() {}

    /** The whole space: user VMAs of each address space, the direct map, the vmalloc area, and {@code image}. */
    static List<VirtualRegion> overview(KernelMemory memory, List<VirtualRegion> image) {
        MmRoot root = memory.root();
        List<VirtualRegion> regions = new ArrayList<>(image);
        for (AddressSpace space : memory.spaces().all()) {
            for (SpaceVma vma : memory.spaces().vmas(space)) {
                regions.add(new VirtualRegion("user-vma", "space " + space.id() + " VMA" + (vma.copyOnWrite()
                        ? " (copy-on-write)" : ""), vma.start().value(), vma.end().value()));
            }
        }
        regions.add(new VirtualRegion("direct-map", "direct map of RAM", root.directMapBase().value(),
                root.directMapBase().value() + root.ramBytes()));
        regions.add(new VirtualRegion("vmalloc-area", "vmalloc area", root.vmallocStart().value(), root.vmallocEnd().value()));
        return sorted(regions);
    }

    /** Inside the vmalloc area: its VMAs (vmalloc, guard, anonymous, demand-paged) and its free ranges. */
    static List<VirtualRegion> vmallocArea(KernelMemory memory) {
        List<VirtualRegion> regions = new ArrayList<>();
        for (Vma vma : memory.areas().vmas()) {
            String kind = vma.kind().name().toLowerCase().replace('_', '-');
            regions.add(new VirtualRegion(kind, kind + " VMA", vma.start().value(), vma.end().value()));
        }
        for (Vma free : memory.areas().freeAreas()) {
            regions.add(new VirtualRegion("free", "free virtual range", free.start().value(), free.end().value()));
        }
        return sorted(regions);
    }

    private static List<VirtualRegion> sorted(List<VirtualRegion> regions) {
        return regions.stream().sorted(Comparator.comparing(VirtualRegion::start, Long::compareUnsigned)).toList();
    }

    /** Widths in pixels for {@code regions} laid over {@code width}, gaps between non-adjacent ones counted. */
    static double[] widths(List<VirtualRegion> regions, double width) {
        double[] raw = new double[regions.size()];
        double total = 0;
        int gaps = 0;
        for (int i = 0; i < regions.size(); i++) {
            raw[i] = Math.max(1, Math.log(Math.max(1, regions.get(i).size() / 4096.0)) / Math.log(2) + 1);
            total += raw[i];
            if (i > 0 && gapBefore(regions, i)) {
                gaps++;
            }
        }
        double usable = width - gaps * GAP;
        for (int i = 0; i < raw.length; i++) {
            raw[i] = Math.max(MIN_WIDTH, raw[i] / total * usable);
        }
        return raw;
    }

    static boolean gapBefore(List<VirtualRegion> regions, int i) {
        return i > 0 && regions.get(i - 1).end() != regions.get(i).start();
    }

    static String fill(String kind) {
        return switch (kind) {
            case "kernel-image" -> "#3b6fb6";
            case "direct-map" -> "#c6dbef";
            case "vmalloc-area" -> "#c7e9c0";
            case "vmalloc" -> "#1b9e77";
            case "guard" -> "#252525";
            case "anonymous" -> "#e7298a";
            case "demand-paged" -> "#66a61e";
            case "user-vma" -> "#a6761d";
            case "free" -> "#f0f0f0";
            default -> "#969696";
        };
    }
}
