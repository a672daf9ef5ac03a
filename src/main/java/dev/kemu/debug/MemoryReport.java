package dev.kemu.debug;

import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.mm.PhysRange;
import dev.kemu.kernel.mm.PhysicalMemory;
import dev.kemu.kernel.mm.Vma;
import dev.kemu.kernel.slab.SlabInfo;

/** The memory manager's state as text: physical map, slabinfo, VMAs, and the checkers' verdict. */
public final class MemoryReport {
    private MemoryReport() {}

    public static String of(KernelMemory memory) {
        StringBuilder text = new StringBuilder("--- physical memory ---\n");
        for (PhysRange range : PhysicalMemory.map(memory.root())) {
            text.append(range).append('\n');
        }
        text.append(String.format("free frames: %d of %d%n", memory.root().freeFrames(), memory.root().frameCount()));
        text.append("--- slabinfo ---\n").append(SlabInfo.table(memory.slabs().info()));
        text.append("--- vmas ---\n");
        for (Vma vma : memory.areas().vmas()) {
            text.append(vma).append('\n');
        }
        text.append("--- metadata check ---\n");
        var problems = memory.check();
        text.append(problems.isEmpty() ? "consistent\n" : String.join("\n", problems) + "\n");
        return text.toString();
    }
}
