package dev.kemu.boot;

import dev.kemu.debug.MemoryReport;
import dev.kemu.kernel.GuestAbi;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.mm.NumaNodes;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * kemu's kernel booted with {@code --numa 2 --cpus 2} in 256 MiB: it still runs its demo to a clean exit, the
 * memory services found two nodes of 128 MiB in the SRAT with CPU 0 in node 0 and CPU 1 in node 1, the physical
 * map names both, and HC_FRAME_ALLOC_NODE through the hypercall port honours the node and __GFP_THISNODE.
 */
class NumaBootTest {
    private static final long RAM = 256L << 20, NODE = 128L << 20;

    @Test
    void twoNodes_bootKemusKernel_andTheServicesAllocateByNode() {
        BootOptions options = BootOptions.defaults().withRam(RAM).withCpus(2).withNumaNodes(2);
        try (KernelBoot boot = new KernelBoot(TestKernels.defaultKernel(), options)) {
            BootReport report = boot.run();
            assertEquals(0, report.run().exitCode(), "kmain's demo succeeded: " + report.run().detail() + "\n"
                    + report.console());
            KernelMemory memory = boot.services().memory().orElseThrow();
            NumaNodes nodes = memory.root().nodes();
            assertEquals(2, nodes.count());
            assertEquals(NODE / 4096, nodes.endPfn(0));
            assertEquals(RAM / 4096, nodes.endPfn(1));
            assertEquals(0, nodes.nodeOfCpu(0));
            assertEquals(1, nodes.nodeOfCpu(1));

            String map = MemoryReport.of(memory);
            assertTrue(map.contains("node 0 [P0x0, P0x8000000) 128 MiB, CPUs (APIC IDs) [0]\n"), map);
            assertTrue(map.contains("node 1 [P0x8000000, P0x10000000) 128 MiB, CPUs (APIC IDs) [1]\n"), map);
            assertTrue(map.matches("(?s).*\nzone DMA32 [^\n]*, node 1 \\[P0x8000000, P0x10000000\\)\n.*"), map);
            assertTrue(map.contains("consistent\n"), map);

            var port = boot.hypercalls();
            long onNode1 = port.call(boot.machine(), GuestAbi.HC_FRAME_ALLOC_NODE, new long[]{0, 0, 1});
            assertTrue(onNode1 >= NODE && onNode1 < RAM, Long.toHexString(onNode1));
            long dmaThisNode1 = port.call(boot.machine(), GuestAbi.HC_FRAME_ALLOC_NODE,
                    new long[]{0, GuestAbi.GFP_DMA | GuestAbi.GFP_THISNODE, 1});
            assertEquals(GuestAbi.ENOMEM, dmaThisNode1, "node 1 has no DMA zone and THISNODE forbids node 0");
            long dmaAnyNode = port.call(boot.machine(), GuestAbi.HC_FRAME_ALLOC_NODE, new long[]{0, GuestAbi.GFP_DMA, 1});
            assertTrue(dmaAnyNode > 0 && dmaAnyNode < 16L << 20, "falls back to node 0's DMA: " + Long.toHexString(dmaAnyNode));
            long cpu0 = port.call(boot.machine(), GuestAbi.HC_FRAME_ALLOC_NODE, new long[]{0, 0, GuestAbi.NUMA_NO_NODE});
            assertTrue(cpu0 > 0 && cpu0 < NODE, "the bootstrap CPU's node 0: " + Long.toHexString(cpu0));
            assertEquals(GuestAbi.EINVAL, port.call(boot.machine(), GuestAbi.HC_FRAME_ALLOC_NODE, new long[]{0, 0, 2}));
            assertEquals(List.of(), memory.check());
        }
    }
}
