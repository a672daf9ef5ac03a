package dev.kemu.debug.leaks;

import dev.kemu.kernel.MmFixture;
import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.MmLayout;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Random object graphs written into guest RAM (kmalloc objects, large kmallocs and vmalloc areas; edges stored as
 * direct-map, interior or physical pointers at random aligned offsets), some nodes held by a root page: the scan
 * reports exactly the nodes a breadth-first search of the graph from the roots does not reach.
 */
class LeakScanReachabilityProperties {
    /** A node: its size class, whether a root holds it. */
    record Node(int kind, int size, boolean rooted) {}

    /** An edge from node {@code from} to node {@code to}, stored in {@code from} at slot {@code slot}, in form {@code form}. */
    record Edge(int from, int to, int slot, int form) {}

    record Graph(List<Node> nodes, List<Edge> edges) {}

    @Provide
    Arbitrary<Graph> graphs() {
        Arbitrary<Node> node = Combinators.combine(Arbitraries.integers().between(0, 9),
                Arbitraries.integers().between(16, 2048), Arbitraries.integers().between(0, 5).map(r -> r == 0))
                .as(Node::new);
        return node.list().ofMinSize(1).ofMaxSize(40).flatMap(nodes -> Combinators.combine(
                        Arbitraries.integers().between(0, nodes.size() - 1), Arbitraries.integers().between(0, nodes.size() - 1),
                        Arbitraries.integers().between(0, 1000), Arbitraries.integers().between(0, 2))
                .as(Edge::new).list().ofMaxSize(60).map(edges -> new Graph(nodes, edges)));
    }

    @Property(tries = 30)
    void scan_reportsExactlyTheNodesTheRootsDoNotReach(@ForAll("graphs") Graph graph) {
        try (MmFixture mm = new MmFixture()) {
            long data = mm.memory.frames().allocate(0, FrameType.KERNEL_IMAGE, true).orElseThrow().value();
            List<Long> addresses = new ArrayList<>();
            List<Long> sizes = new ArrayList<>();
            for (Node node : graph.nodes()) {
                long size = node.kind() == 0 ? 2 * MmLayout.PAGE : node.kind() == 1 ? 5000 : node.size();
                VirtAddr address = node.kind() == 0 ? mm.memory.vmalloc().allocate(size).orElseThrow()
                        : mm.memory.kmalloc().allocate(size, true).orElseThrow();
                addresses.add(address.value());
                sizes.add(size);
            }
            // A later edge into the same slot overwrites an earlier one, in RAM as in the model.
            Map<List<Long>, Integer> slots = new HashMap<>();
            for (Edge edge : graph.edges()) {
                long slot = (edge.slot() % (sizes.get(edge.from()) / 8)) * 8;
                long target = addresses.get(edge.to());
                long interior = (edge.slot() * 8L) % sizes.get(edge.to());
                long value = switch (edge.form()) {
                    case 0 -> target;
                    case 1 -> target + interior;
                    default -> physicalOrVirtual(mm, target); // vmalloc areas have no single physical alias
                };
                writeVirtual(mm, addresses.get(edge.from()) + slot, value);
                slots.put(List.of((long) edge.from(), slot), edge.to());
            }
            List<Set<Integer>> successors = new ArrayList<>();
            graph.nodes().forEach(n -> successors.add(new HashSet<>()));
            slots.forEach((slot, to) -> successors.get(slot.getFirst().intValue()).add(to));
            int rootSlot = 0;
            ArrayDeque<Integer> queue = new ArrayDeque<>();
            Set<Integer> reached = new HashSet<>();
            for (int i = 0; i < graph.nodes().size(); i++) {
                if (graph.nodes().get(i).rooted()) {
                    mm.ram.write64(data + 8L * rootSlot++, addresses.get(i));
                    reached.add(i);
                    queue.add(i);
                }
            }
            while (!queue.isEmpty()) {
                for (int next : successors.get(queue.poll())) {
                    if (reached.add(next)) {
                        queue.add(next);
                    }
                }
            }
            Set<Long> expected = new TreeSet<>();
            for (int i = 0; i < addresses.size(); i++) {
                if (!reached.contains(i)) {
                    expected.add(addresses.get(i));
                }
            }
            long dataVa = mm.root().toVirtual(PhysAddr.of(data)).value();
            ScanRoots roots = new ScanRoots(MmFixture.PML4,
                    List.of(new ScanRoots.Range("data", dataVa, dataVa + MmLayout.PAGE)), List.of());
            LeakReport report = LeakScan.run(mm.memory, roots, AllocationSites.NOT_RECORDED, PhysicalAliases.COUNTED);
            Set<Long> actual = new TreeSet<>(report.leaks().stream().map(o -> o.address().value()).toList());
            assertEquals(expected, actual, report.text());
            assertEquals(addresses.size(), report.tracked());
        }
    }

    /** The physical alias of a direct-map object; a vmalloc area keeps its virtual address. */
    private static long physicalOrVirtual(MmFixture mm, long va) {
        return mm.root().physicalOf(VirtAddr.of(va)).map(PhysAddr::value).orElse(va);
    }

    private static void writeVirtual(MmFixture mm, long va, long value) {
        mm.ram.write64(mm.memory.pageTables().translate(VirtAddr.of(va)).orElseThrow().value(), value);
    }
}
