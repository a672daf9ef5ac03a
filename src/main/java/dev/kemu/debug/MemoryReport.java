package dev.kemu.debug;

import dev.kemu.kernel.mm.AddressSpace;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.mm.PhysRange;
import dev.kemu.kernel.mm.PhysicalMemory;
import dev.kemu.kernel.mm.Vma;
import dev.kemu.kernel.slab.SlabInfo;

import java.util.List;

/** The memory manager's state as text: physical map, zones, address spaces, slabinfo, VMAs, and the checkers' verdict. */
public final class MemoryReport {
    private MemoryReport() {}

    public static String of(KernelMemory memory) {
        StringBuilder text = new StringBuilder("--- physical memory ---\n");
        for (PhysRange range : PhysicalMemory.map(memory.root())) {
            text.append(range).append('\n');
        }
        text.append(String.format("free frames: %d of %d%n", memory.root().freeFrames(), memory.root().frameCount()));
        text.append(nodeLines(memory));
        text.append("--- zones ---\n");
        memory.pages().usage().forEach(zone -> text.append(zone).append('\n'));
        text.append("--- address spaces ---\n").append(spaceLines(memory));
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

    /** "--- NUMA nodes ---" and one line per node: its frames and its CPUs (APIC IDs), as the ACPI SRAT said. */
    static String nodeLines(KernelMemory memory) {
        var nodes = memory.root().nodes();
        StringBuilder text = new StringBuilder("--- NUMA nodes ---\n");
        for (int node = 0; node < nodes.count(); node++) {
            List<Integer> cpus = new java.util.ArrayList<>();
            for (int apic = 0; apic < nodes.cpusListed(); apic++) {
                if (nodes.nodeOfCpu(apic) == node) {
                    cpus.add(apic);
                }
            }
            text.append(String.format("node %d [P0x%x, P0x%x) %d MiB%s%n", node, nodes.startPfn(node) * 4096,
                    nodes.endPfn(node) * 4096, (nodes.endPfn(node) - nodes.startPfn(node)) * 4096 >> 20,
                    nodes.cpusListed() > 0 ? ", CPUs (APIC IDs) " + cpus : ", every CPU (no SRAT)"));
        }
        return text.toString();
    }

    /** One line per space, oldest first ("space 1 of 2: id 1, PML4 P0x..., 1 VMA"), after the kernel's. */
    static String spaceLines(KernelMemory memory) {
        List<AddressSpace> spaces = memory.spaces().all().reversed();
        StringBuilder text = new StringBuilder("kernel address space: PML4 " + memory.root().pml4() + "\n");
        for (int i = 0; i < spaces.size(); i++) {
            AddressSpace space = spaces.get(i);
            int vmas = memory.spaces().vmas(space).size();
            text.append(String.format("space %d of %d: id %d, PML4 %s, %d VMA%s%n", i + 1, spaces.size(), space.id(),
                    space.pml4(), vmas, vmas == 1 ? "" : "s"));
        }
        return text.toString();
    }
}
