package dev.kemu.debug.svg;

import dev.kemu.elf.ElfImage;
import dev.kemu.elf.Segment;

import java.util.List;

/** A range of virtual addresses {@code [start, end)} the picture draws, with its kind (the CSS class suffix) and a label. */
public record VirtualRegion(String kind, String label, long start, long end) {
    /** The kernel's PT_LOAD segments, as the virtual view draws them. */
    public static List<VirtualRegion> kernelImage(ElfImage kernel) {
        return kernel.segments().stream().map(s -> new VirtualRegion("kernel-image", "kernel image " + flags(s),
                s.vaddr(), s.vaddr() + s.memSize())).toList();
    }

    private static String flags(Segment segment) {
        return ((segment.flags() & Segment.READ) != 0 ? "r" : "-") + ((segment.flags() & Segment.WRITE) != 0 ? "w" : "-")
                + ((segment.flags() & Segment.EXECUTE) != 0 ? "x" : "-");
    }

    public long size() {
        return end - start;
    }
}
