package dev.kemu.debug.svg;

import dev.kemu.kernel.mm.FrameTable;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.slab.SlabInfo;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.kemu.kernel.mm.MmLayout.PAGE;

/**
 * The memory manager's state as one SVG picture (docs/memory-pictures.md): physical memory as a strip of
 * frames coloured by type and owner, the virtual address space and the vmalloc area on a segmented log
 * scale, each slab cache's fill, and a legend. Every region has an id or class and a {@code <title>}
 * tooltip; frame runs carry {@code data-frames} so a reader (or a test) can count them.
 */
public final class MemorySvg {
    static final int WIDTH = 1200;
    static final int LEFT = 130;
    static final int STRIP = 1024;
    static final int ROW = 16;
    static final int MAX_ROWS = 64;

    private final KernelMemory memory;
    private final FrameClassifier classifier;
    private final Map<String, FrameClass> legend = new LinkedHashMap<>();

    private MemorySvg(KernelMemory memory) {
        this.memory = memory;
        this.classifier = new FrameClassifier(memory);
    }

    /** The picture of {@code memory}; {@code image} names the kernel image's ranges for the virtual view. */
    public static String render(KernelMemory memory, List<VirtualRegion> image) {
        return new MemorySvg(memory).draw(image);
    }

    private String draw(List<VirtualRegion> image) {
        long frames = FrameTable.of(memory.root()).frames();
        long perRow = STRIP;
        while ((frames + perRow - 1) / perRow > MAX_ROWS) {
            perRow *= 2;
        }
        int rows = (int) ((frames + perRow - 1) / perRow);
        List<SlabInfo> caches = memory.slabs().info();
        List<VirtualRegion> overview = VirtualLayout.overview(memory, image);
        List<VirtualRegion> vmalloc = VirtualLayout.vmallocArea(memory);
        int physicalTop = 50;
        int virtualTop = physicalTop + rows * ROW + 40;
        int slabTop = virtualTop + 160;
        int legendTop = slabTop + caches.size() * ROW + 40;
        // The legend is drawn last but sized now: one entry per frame class present, plus the virtual kinds.
        StripFrames strip = new StripFrames(frames, perRow);
        int legendRows = (strip.classes().size() + 3) / 4 + 3;
        SvgWriter svg = new SvgWriter(WIDTH, legendTop + legendRows * ROW + 20, "kemu memory picture");
        svg.text(10, 20, String.format("kemu memory: %d MiB RAM, %d frames, %d free", memory.root().ramBytes() >> 20, frames,
                memory.root().freeFrames()), "heading");
        physical(svg, strip, physicalTop, perRow);
        virtual(svg, overview, virtualTop, "virtual", "virtual address space (segmented log scale)");
        virtual(svg, vmalloc, virtualTop + 75, "vmalloc", "vmalloc area (segmented log scale)");
        slabs(svg, caches, slabTop);
        legend(svg, legendTop);
        return svg.finish();
    }

    /** Runs of frames of one class, split at row ends. */
    private final class StripFrames {
        record Run(long first, long count, FrameClass frameClass) {}

        private final List<Run> runs = new java.util.ArrayList<>();

        StripFrames(long frames, long perRow) {
            long start = 0;
            FrameClass current = classifier.of(0);
            for (long pfn = 1; pfn <= frames; pfn++) {
                FrameClass next = pfn < frames ? classifier.of(pfn) : null;
                if (next == null || !next.equals(current) || pfn % perRow == 0) {
                    runs.add(new Run(start, pfn - start, current));
                    legend.putIfAbsent(current.classes(), current);
                    start = pfn;
                    current = next;
                }
            }
        }

        Map<String, FrameClass> classes() {
            return legend;
        }
    }

    private void physical(SvgWriter svg, StripFrames strip, int top, long perRow) {
        svg.group("physical", "section");
        svg.text(10, top - 8, String.format("physical memory: one row per %d KiB, one cell per frame run", perRow * PAGE >> 10),
                "heading");
        double scale = (double) STRIP / perRow;
        for (long row = 0; row * perRow < FrameTable.of(memory.root()).frames(); row++) {
            svg.text(10, top + row * ROW + 12, String.format("P0x%08x", row * perRow * PAGE), "address");
        }
        int index = 0;
        for (StripFrames.Run run : strip.runs) {
            long row = run.first() / perRow;
            double x = LEFT + (run.first() % perRow) * scale;
            String tooltip = String.format("P0x%x-P0x%x (%d frame%s): %s", run.first() * PAGE, (run.first() + run.count()) * PAGE,
                    run.count(), run.count() == 1 ? "" : "s", run.frameClass().label());
            svg.rect("phys-" + index++, run.frameClass().classes(), x, top + row * ROW, run.count() * scale, ROW - 2,
                    run.frameClass().fill(), tooltip, "data-frames", Long.toString(run.count()),
                    "data-start", String.format("0x%x", run.first() * PAGE));
        }
        svg.end();
    }

    private void virtual(SvgWriter svg, List<VirtualRegion> regions, int top, String id, String heading) {
        svg.group(id, "section");
        svg.text(10, top - 8, heading, "heading");
        double[] widths = VirtualLayout.widths(regions, STRIP);
        double x = LEFT;
        for (int i = 0; i < regions.size(); i++) {
            VirtualRegion region = regions.get(i);
            if (VirtualLayout.gapBefore(regions, i)) {
                long hole = region.start() - regions.get(i - 1).end();
                svg.rect(null, "vgap", x + 2, top + 8, VirtualLayout.GAP - 4, 4, "#bdbdbd",
                        String.format("hole of 0x%x bytes (not drawn to scale)", hole));
                x += VirtualLayout.GAP;
            }
            svg.rect(id + "-" + i, "vregion vregion-" + region.kind(), x, top, widths[i], 20, VirtualLayout.fill(region.kind()),
                    String.format("%s: V0x%016x-V0x%016x (%s)", region.label(), region.start(), region.end(),
                            size(region.size())), "stroke", "#ffffff", "stroke-width", "0.5");
            if (widths[i] > 110) {
                svg.text(x + 2, top + 32, String.format("V0x%x", region.start()), "address");
                svg.text(x + 2, top + 44, region.label(), "label");
            }
            x += widths[i];
        }
        svg.end();
    }

    private void slabs(SvgWriter svg, List<SlabInfo> caches, int top) {
        svg.group("slabs", "section");
        svg.text(10, top - 8, "slab caches: objects in use of objects in their slabs", "heading");
        int bar = 400;
        for (int i = 0; i < caches.size(); i++) {
            SlabInfo cache = caches.get(i);
            double y = top + i * ROW;
            String tooltip = String.format("%s: %d of %d objects in use, %d-byte objects, %d slabs of %d page%s",
                    cache.name(), cache.activeObjects(), cache.totalObjects(), cache.objectSize(), cache.slabs(),
                    cache.pagesPerSlab(), cache.pagesPerSlab() == 1 ? "" : "s");
            svg.text(10, y + 12, cache.name(), "label");
            svg.rect("slab-" + cache.name().replaceAll("[^A-Za-z0-9_-]", "_"), "slab-bar", LEFT, y, bar, ROW - 3, "#f0f0f0",
                    tooltip, "data-active", Long.toString(cache.activeObjects()),
                    "data-total", Long.toString(cache.totalObjects()));
            double used = cache.totalObjects() == 0 ? 0 : (double) cache.activeObjects() / cache.totalObjects() * bar;
            svg.rect(null, "slab-used", LEFT, y, used, ROW - 3, "#41ab5d", tooltip);
            svg.text(LEFT + bar + 8, y + 12, String.format("%d/%d", cache.activeObjects(), cache.totalObjects()), "label");
        }
        svg.end();
    }

    private void legend(SvgWriter svg, int top) {
        svg.group("legend", "section");
        svg.text(10, top - 8, "legend", "heading");
        int i = 0;
        for (FrameClass frameClass : legend.values()) {
            double x = LEFT + (i % 4) * 260;
            double y = top + (i / 4) * ROW;
            // Not class "frame": the swatches are no frames, and readers count frames by that class.
            svg.rect("legend-" + i, "legend-swatch " + frameClass.classes().substring("frame ".length()), x, y, 12, 12, frameClass.fill(),
                    frameClass.label());
            svg.text(x + 16, y + 10, frameClass.label(), "label");
            i++;
        }
        int row = (legend.size() + 3) / 4;
        String[] kinds = {"kernel-image", "direct-map", "vmalloc-area", "vmalloc", "guard", "user-vma", "free"};
        for (int k = 0; k < kinds.length; k++) {
            double x = LEFT + (k % 4) * 260;
            double y = top + (row + k / 4) * ROW;
            svg.rect("legend-v-" + kinds[k], "legend-swatch legend-vregion-" + kinds[k], x, y, 12, 12, VirtualLayout.fill(kinds[k]),
                    kinds[k]);
            svg.text(x + 16, y + 10, "virtual: " + kinds[k], "label");
        }
        svg.end();
    }

    private static String size(long bytes) {
        if (bytes >= 1L << 30 && bytes % (1L << 30) == 0) {
            return (bytes >> 30) + " GiB";
        }
        if (bytes >= 1L << 20 && bytes % (1L << 20) == 0) {
            return (bytes >> 20) + " MiB";
        }
        return bytes >= 1024 && bytes % 1024 == 0 ? (bytes >> 10) + " KiB" : bytes + " bytes";
    }
}
