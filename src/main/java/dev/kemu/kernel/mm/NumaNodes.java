package dev.kemu.kernel.mm;

import java.util.ArrayList;
import java.util.List;

import static dev.kemu.kernel.mm.MmLayout.*;

/**
 * The NUMA nodes as the mm root records them (node table and cpu_node, {@link MmLayout}): which node a frame
 * or a CPU is in, and the order in which an allocation falls back to other nodes.
 *
 * <p>Distances are ACPI's defaults without a SLIT (10 local, 20 to every other node), so the fallback order is
 * Linux's {@code build_zonelists} over equal distances: the node itself, then {@code find_next_best_node}'s
 * tie-break, which penalises lower-numbered nodes: the higher nodes ascending, then the lower ones ascending.
 */
public record NumaNodes(MmRoot root) {
    public static final int LOCAL_DISTANCE = 10, REMOTE_DISTANCE = 20;

    /** Writes {@code topology} into the root, clipped to {@code frames} frames of RAM. */
    static void write(MmRoot root, NumaTopology topology, long frames) {
        int count = topology.count();
        while (count > 1 && topology.nodeStarts().get(count - 1) >= frames) {
            count--; // a node wholly beyond RAM holds nothing
        }
        root.set32(ROOT_NODE_COUNT, count);
        root.set32(ROOT_NODE_CPUS, topology.cpuNodes().size());
        for (int n = 0; n < MAX_NODES; n++) {
            long start = n < count ? topology.nodeStarts().get(n) : frames;
            long end = n + 1 < count ? topology.nodeStarts().get(n + 1) : frames;
            root.set(ROOT_NODE_START + 8 * n, start);
            root.set(ROOT_NODE_END + 8 * n, end);
        }
        for (int cpu = 0; cpu < CPU_NODE_ENTRIES; cpu++) {
            int node = cpu < topology.cpuNodes().size() ? topology.cpuNodes().get(cpu) : 0;
            root.ram().write8(root.phys().value() + ROOT_CPU_NODE + cpu, node < count ? node : 0);
        }
    }

    public int count() {
        int count = root.get32(ROOT_NODE_COUNT);
        if (count < 1 || count > MAX_NODES) {
            throw new KernelPanic(String.format("mm root %s counts %d NUMA nodes, expected 1..%d", root.phys(), count,
                    MAX_NODES));
        }
        return count;
    }

    /** How many APIC IDs, from 0, the SRAT assigned to nodes (0 without an SRAT). */
    public int cpusListed() {
        return Math.min(CPU_NODE_ENTRIES, Math.max(0, root.get32(ROOT_NODE_CPUS)));
    }

    public long startPfn(int node) {
        return root.get(ROOT_NODE_START + 8 * node);
    }

    public long endPfn(int node) {
        return root.get(ROOT_NODE_END + 8 * node);
    }

    /** The node frame {@code pfn} is in (the last node holds anything past the table's ends). */
    public int nodeOf(long pfn) {
        int count = count();
        for (int n = 0; n < count - 1; n++) {
            if (pfn < endPfn(n)) {
                return n;
            }
        }
        return count - 1;
    }

    /** The node of the CPU with APIC ID {@code apicId}; node 0 for one the table does not cover. */
    public int nodeOfCpu(int apicId) {
        if (apicId < 0 || apicId >= CPU_NODE_ENTRIES) {
            return 0;
        }
        int node = root.ram().read8(root.phys().value() + ROOT_CPU_NODE + apicId) & 0xff;
        return node < count() ? node : 0;
    }

    public static int distance(int from, int to) {
        return from == to ? LOCAL_DISTANCE : REMOTE_DISTANCE;
    }

    /** The nodes an allocation preferring {@code node} tries, in order (see the class comment). */
    public List<Integer> fallback(int node) {
        return fallback(node, count());
    }

    static List<Integer> fallback(int node, int count) {
        List<Integer> order = new ArrayList<>(List.of(node));
        for (int n = node + 1; n < count; n++) {
            order.add(n);
        }
        for (int n = 0; n < node; n++) {
            order.add(n);
        }
        return order;
    }
}
