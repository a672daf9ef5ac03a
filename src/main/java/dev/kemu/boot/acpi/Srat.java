package dev.kemu.boot.acpi;

/**
 * The System Resource Affinity Table ("SRAT", ACPI 6.5 section 5.2.16) for RAM split into equal NUMA nodes,
 * laid out as QEMU's pc machine builds it for {@code -numa node,mem=...}:
 *
 * <pre>
 *   +36 u32 1 (reserved, "for backward compatibility")   +40 u64 0 (reserved)
 *   type 0, 16 bytes  Processor Local APIC Affinity   proximity domain [7:0], APIC ID, flags = 1 (enabled),
 *                                                     SAPIC EID 0, proximity domain [31:8], clock domain 0
 *   type 1, 40 bytes  Memory Affinity   proximity domain, reserved u16, base u64, length u64, reserved u32,
 *                                       flags = 1 (enabled), reserved u64
 * </pre>
 *
 * One processor entry per CPU, CPU {@code i} in node {@code i mod N} (QEMU's default puts sockets on nodes
 * round-robin; kemu's CPUs are one per socket). Node 0's RAM is two entries, [0, 640 KiB) and [1 MiB, end),
 * leaving out the VGA and BIOS hole as QEMU does; every other node is one entry. Node boundaries are multiples
 * of 4 MiB, the largest buddy block, so that no free block spans two nodes; the last node takes the rest.
 */
public final class Srat {
    public static final int MAX_NODES = 8;
    /** The smallest node: the kernel, its boot data and the mm metadata must fit in node 0. */
    public static final long MIN_NODE_BYTES = 8L << 20;
    /** Node boundaries are multiples of this (the buddy allocator's largest block, order 10). */
    public static final long NODE_ALIGN = 4L << 20;
    public static final int TYPE_PROCESSOR = 0, TYPE_MEMORY = 1;
    public static final int PROCESSOR_BYTES = 16, MEMORY_BYTES = 40;
    public static final int ENABLED = 1;
    static final long LOW_RAM_END = 0xa0000, HIGH_RAM_START = 0x100000;

    private Srat() {}

    /** Refuses a node count the RAM cannot be split into, naming what is allowed. */
    public static void checkNodes(long ramBytes, int nodes) {
        if (nodes < 1 || nodes > MAX_NODES) {
            throw new IllegalArgumentException(nodes + " NUMA nodes: kemu splits RAM into 1 to " + MAX_NODES + " nodes");
        }
        if (nodes > 1 && ramBytes / nodes < MIN_NODE_BYTES) {
            throw new IllegalArgumentException(String.format("%d NUMA nodes in %d MiB of RAM: each node needs at least "
                    + "%d MiB; give more RAM or fewer nodes", nodes, ramBytes >> 20, MIN_NODE_BYTES >> 20));
        }
    }

    /** First byte of node {@code node} (node {@code nodes} = the end of RAM). */
    public static long nodeStart(long ramBytes, int nodes, int node) {
        return node >= nodes ? ramBytes : node * (ramBytes / nodes / NODE_ALIGN * NODE_ALIGN);
    }

    /** The node CPU {@code cpu} belongs to. */
    public static int nodeOfCpu(int cpu, int nodes) {
        return cpu % nodes;
    }

    static byte[] build(long ramBytes, int cpus, int nodes) {
        checkNodes(ramBytes, nodes);
        SdtWriter table = new SdtWriter("SRAT", 1);
        table.u32(1);
        table.u64(0);
        for (int cpu = 0; cpu < cpus; cpu++) {
            int node = nodeOfCpu(cpu, nodes);
            table.u8(TYPE_PROCESSOR);
            table.u8(PROCESSOR_BYTES);
            table.u8(node & 0xff);
            table.u8(cpu); // APIC ID, as the MADT numbers them
            table.u32(ENABLED);
            table.u8(0); // local SAPIC EID
            table.u8(node >>> 8);
            table.u16(node >>> 16);
            table.u32(0); // clock domain
        }
        memory(table, 0, 0, LOW_RAM_END);
        memory(table, 0, HIGH_RAM_START, nodeStart(ramBytes, nodes, 1));
        for (int node = 1; node < nodes; node++) {
            memory(table, node, nodeStart(ramBytes, nodes, node), nodeStart(ramBytes, nodes, node + 1));
        }
        return table.finish();
    }

    private static void memory(SdtWriter table, int node, long start, long end) {
        table.u8(TYPE_MEMORY);
        table.u8(MEMORY_BYTES);
        table.u32(node);
        table.u16(0);
        table.u64(start);
        table.u64(end - start);
        table.u32(0);
        table.u32(ENABLED);
        table.u64(0);
    }
}
