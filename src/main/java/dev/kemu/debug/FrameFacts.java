package dev.kemu.debug;

import dev.kemu.kernel.mm.AddressSpace;
import dev.kemu.kernel.mm.FrameTable;
import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.mm.MmRoot;
import dev.kemu.kernel.mm.NumaNodes;
import dev.kemu.kernel.mm.Zone;
import dev.kemu.machine.PhysAddr;

import java.util.List;
import java.util.Optional;

import static dev.kemu.kernel.mm.MmLayout.PAGE;

/** The {@code frame:}, {@code node:} and {@code owner:} lines of {@code kemu whatis}: what the frame table in guest RAM says of a frame. */
final class FrameFacts {
    private FrameFacts() {}

    static void describe(KernelMemory memory, long pa, List<String> lines) {
        describe(memory, pa, lines, rip -> String.format("0x%x", rip));
    }

    /** {@link #describe} with slab alloc/free sites (--slub-debug=U) named by {@code symbolizer}. */
    static void describe(KernelMemory memory, long pa, List<String> lines, java.util.function.LongFunction<String> symbolizer) {
        MmRoot root = memory.root();
        FrameTable frames = FrameTable.of(root);
        long pfn = pa / PAGE;
        if (Long.compareUnsigned(pfn, frames.frames()) >= 0) {
            lines.add(String.format("frame: none: P0x%x lies beyond the frame table's %d frames (RAM ends at P0x%x)", pa,
                    frames.frames(), frames.frames() * PAGE));
            return;
        }
        int code = frames.typeCode(pfn);
        if (code >= FrameType.values().length) {
            lines.add(String.format("frame: P0x%x (frame 0x%x) has the unknown type byte %d: the frame table is corrupted",
                    pfn * PAGE, pfn, code));
            return;
        }
        FrameType type = FrameType.of(code);
        lines.add(String.format("frame: P0x%x (frame 0x%x), %s%s", pfn * PAGE, pfn, type.label(), blockOf(frames, pfn, type)));
        NumaNodes nodes = root.nodes();
        int node = nodes.nodeOf(pfn);
        lines.add(String.format("node: %d of %d, zone %s (node %d holds [P0x%x, P0x%x))", node, nodes.count(),
                Zone.of(PhysAddr.of(pfn * PAGE)).label(), node, nodes.startPfn(node) * PAGE, nodes.endPfn(node) * PAGE));
        switch (type) {
            case SLAB -> SlabObjectFacts.describe(root, frames, pfn, pa, lines, symbolizer);
            case PAGE_TABLE -> lines.add("owner: " + pageTableOwner(memory, pfn * PAGE) + String.format(
                    ", %d present entries%s", frames.tag(pfn), frames.isPinned(pfn) ? ", pinned (shared kernel half)" : ""));
            case ANONYMOUS -> lines.add(String.format("owner: a private page of an address space's anonymous VMA, mapped by "
                    + "%d page-table entries (its reference count)", frames.tag(pfn)));
            case HEAP -> lines.add("owner: the pages behind one large kmalloc (above the 2048-byte slab classes)");
            case VMALLOC -> lines.add("owner: a page behind a vmalloc area (the area is named on the vma line when "
                    + "the address given was its virtual one)");
            case FREE -> lines.add("owner: none (free in the buddy allocator)");
            case KERNEL_IMAGE -> lines.add("owner: the kernel image loaded from its ELF");
            case BOOT -> lines.add("owner: boot information or the firmware stub");
            case MM_METADATA -> lines.add("owner: the memory manager's own metadata (mm root, frame table, cache table)");
            case ALLOCATED -> lines.add("owner: guest code, through frame_alloc");
            case DEMAND_PAGED -> lines.add("owner: a demand-paged VMA, mapped on first touch");
            case ZERO_PAGE -> lines.add("owner: the shared zero page that read faults on untouched anonymous pages map");
            case RESERVED -> lines.add("owner: the firmware (not RAM or reserved RAM, never allocated)");
        }
    }

    /** ", head P0x... of a block of 2^order frames" for allocated blocks; tails of free blocks carry stale tags. */
    private static String blockOf(FrameTable frames, long pfn, FrameType type) {
        if (type == FrameType.FREE || type == FrameType.RESERVED) {
            return frames.isHead(pfn) ? String.format(", head of a free block of %d frames", 1L << frames.order(pfn)) : "";
        }
        long head = frames.headOf(pfn);
        int order = frames.order(head);
        return order == 0 ? "" : String.format(", frame %d of the %d-frame block at P0x%x", pfn - head, 1L << order, head * PAGE);
    }

    private static String pageTableOwner(KernelMemory memory, long table) {
        var ram = memory.root().ram();
        Optional<String> kernel = PageTableLevels.levelOf(ram, memory.root().pml4().value(), table);
        if (kernel.isPresent()) {
            return kernel.get() + " of the kernel's tables (PML4 " + memory.root().pml4() + ")";
        }
        for (AddressSpace space : memory.spaces().all()) {
            Optional<String> found = PageTableLevels.levelOf(ram, space.pml4().value(), table);
            if (found.isPresent()) {
                return found.get() + " of address space " + space.id() + " (PML4 " + space.pml4() + ")";
            }
        }
        return "a page table that no PML4 kemu knows reaches (the kernel's or an address space's)";
    }
}
