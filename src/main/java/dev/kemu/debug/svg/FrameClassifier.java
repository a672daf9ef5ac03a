package dev.kemu.debug.svg;

import dev.kemu.kernel.mm.AddressSpace;
import dev.kemu.kernel.mm.FrameTable;
import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.mm.MmRoot;
import dev.kemu.kernel.slab.KmemCache;
import dev.kemu.kernel.slab.SlabHeader;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PageTableEntry;

import java.util.HashMap;
import java.util.Map;

import static dev.kemu.kernel.mm.MmLayout.PAGE;

/**
 * Colours frames by type and owner, from the frame table and slab headers in guest RAM. A page table's
 * level comes from one walk of every known PML4 (the kernel's and each address space's): the frame
 * table only says "page table".
 */
final class FrameClassifier {
    private static final String[] LEVELS = {"PT", "PD", "PDPT", "PML4"};
    private static final String[] LEVEL_FILLS = {"#fdd0a2", "#fdae6b", "#f16913", "#a63603"};

    private final MmRoot root;
    private final FrameTable frames;
    private final SlabHeader header;
    private final Map<Long, Integer> tableLevels = new HashMap<>();

    FrameClassifier(KernelMemory memory) {
        this.root = memory.root();
        this.frames = FrameTable.of(root);
        this.header = new SlabHeader(root.ram());
        walk(root.ram(), root.pml4().value(), 3);
        for (AddressSpace space : memory.spaces().all()) {
            walk(root.ram(), space.pml4().value(), 3);
        }
    }

    private void walk(GuestRam ram, long table, int level) {
        if (table + PAGE > ram.size() || tableLevels.putIfAbsent(table / PAGE, level) != null || level == 0) {
            return;
        }
        for (int i = 0; i < 512; i++) {
            long entry = ram.read64(table + 8L * i);
            if ((entry & PageTableEntry.PRESENT) != 0 && (level == 3 || (entry & PageTableEntry.HUGE) == 0)) {
                walk(ram, entry & PageTableEntry.ADDRESS_MASK, level - 1);
            }
        }
    }

    FrameClass of(long pfn) {
        int code = frames.typeCode(pfn);
        if (code >= FrameType.values().length) {
            return new FrameClass(FrameType.RESERVED, "corrupt", "unknown type byte (frame table corrupted)", "#ff0000");
        }
        FrameType type = FrameType.of(code);
        return switch (type) {
            case PAGE_TABLE -> {
                Integer level = tableLevels.get(pfn);
                yield level == null ? new FrameClass(type, "unreached", "page table no PML4 reaches", "#7f2704")
                        : new FrameClass(type, LEVELS[level], "page table, " + LEVELS[level], LEVEL_FILLS[level]);
            }
            case SLAB -> slab(pfn);
            default -> new FrameClass(type, "", type.label(), fill(type));
        };
    }

    private FrameClass slab(long pfn) {
        long slab = frames.headOf(pfn) * PAGE;
        int id = header.cacheId(slab);
        if (header.magic(slab) != SlabHeader.MAGIC_VALUE || id < 0 || id >= KmemCache.describable(root)) {
            return new FrameClass(FrameType.SLAB, "unsound", "slab with an unsound header", "#ff0000");
        }
        String name = KmemCache.of(root, id).name();
        // Cache ids spread over the hue circle by the golden angle: neighbours differ.
        int hue = (int) ((id * 137.508) % 360);
        return new FrameClass(FrameType.SLAB, name, "slab " + name, String.format("hsl(%d,55%%,55%%)", hue));
    }

    static String fill(FrameType type) {
        return switch (type) {
            case RESERVED -> "#525252";
            case FREE -> "#f0f0f0";
            case KERNEL_IMAGE -> "#3b6fb6";
            case BOOT -> "#9e9ac8";
            case MM_METADATA -> "#6a51a3";
            case PAGE_TABLE -> "#f16913";
            case SLAB -> "#41ab5d";
            case HEAP -> "#d95f02";
            case VMALLOC -> "#1b9e77";
            case ALLOCATED -> "#e7298a";
            case DEMAND_PAGED -> "#66a61e";
            case ANONYMOUS -> "#a6761d";
            case ZERO_PAGE -> "#bdbdbd";
        };
    }
}
