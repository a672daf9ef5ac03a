package dev.kemu.kernel.mm;

import java.util.Arrays;
import java.util.List;

import static dev.kemu.kernel.mm.MmLayout.*;

/**
 * What the firmware says about NUMA (the ACPI SRAT, {@link SratReader}): node {@code n} owns the frames
 * {@code [nodeStarts[n], nodeStarts[n+1])}, the last one up to the end of RAM, and APIC ID {@code i} is in
 * node {@code cpuNodes[i]}. Nodes are numbered by proximity domain; node 0 starts at frame 0.
 */
public record NumaTopology(List<Long> nodeStarts, List<Integer> cpuNodes) {
    public NumaTopology {
        nodeStarts = List.copyOf(nodeStarts);
        cpuNodes = List.copyOf(cpuNodes);
        if (nodeStarts.isEmpty() || nodeStarts.size() > MAX_NODES || nodeStarts.getFirst() != 0) {
            throw new IllegalArgumentException("NUMA topology: 1 to " + MAX_NODES + " nodes, the first at frame 0; got "
                    + nodeStarts);
        }
        for (int n = 1; n < nodeStarts.size(); n++) {
            if (nodeStarts.get(n) <= nodeStarts.get(n - 1)) {
                throw new IllegalArgumentException("NUMA topology: node starts must ascend, got " + nodeStarts);
            }
        }
        int count = nodeStarts.size();
        if (cpuNodes.size() > CPU_NODE_ENTRIES || cpuNodes.stream().anyMatch(n -> n < 0 || n >= count)) {
            throw new IllegalArgumentException("NUMA topology: CPU nodes " + cpuNodes + " name nodes that do not exist");
        }
    }

    /** One node holding all of RAM and every CPU (no SRAT, as Linux assumes without one). */
    public static NumaTopology single() {
        return new NumaTopology(List.of(0L), List.of());
    }

    /** {@code nodes} nodes of {@code framesPerNode} frames each, CPU {@code i} in node {@code i mod nodes}. */
    public static NumaTopology equalNodes(int nodes, long framesPerNode, int cpus) {
        Long[] starts = new Long[nodes];
        Arrays.setAll(starts, n -> n * framesPerNode);
        Integer[] cpuNodes = new Integer[cpus];
        Arrays.setAll(cpuNodes, cpu -> cpu % nodes);
        return new NumaTopology(List.of(starts), List.of(cpuNodes));
    }

    public int count() {
        return nodeStarts.size();
    }
}
