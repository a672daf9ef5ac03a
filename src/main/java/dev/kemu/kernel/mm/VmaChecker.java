package dev.kemu.kernel.mm;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.kemu.kernel.mm.MmLayout.*;
import static dev.kemu.kernel.mm.VirtualAreas.*;

/**
 * Reads the two vm_area lists ({@link VirtualAreas}) without trusting them: they live in guest
 * RAM, so a list may loop, point outside the direct map or hold a kind that does not exist.
 * {@link #walk} returns the nodes up to the first broken link and says what broke; it never
 * throws, so reports ({@code vmas()}, fault reports, {@code mem}) keep working on a guest that
 * scribbled over the lists. {@link #check} adds the range rules on top.
 */
public final class VmaChecker {
    /** The nodes read in list order, and what stopped the walk early (empty when it reached the end). */
    record Walked(List<Vma> nodes, List<String> problems) {}

    private VmaChecker() {}

    public static List<String> check(MmRoot root) {
        List<String> problems = new ArrayList<>();
        checkList(root, walk(root, ROOT_VMAS), "VMA", problems);
        checkList(root, walk(root, ROOT_FREE_AREAS), "free-area", problems);
        return problems;
    }

    static Walked walk(MmRoot root, int headOffset) {
        String list = headOffset == ROOT_VMAS ? "VMA" : "free-area";
        GuestRam ram = root.ram();
        List<Vma> nodes = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        long prev = 0;
        for (long node = root.get(headOffset); node != 0; ) {
            if (!seen.add(node)) {
                problems.add(String.format("%s list: node V0x%x comes back after %d nodes (the list loops)", list, node,
                        nodes.size()));
                break;
            }
            long p = root.physicalOf(VirtAddr.of(node)).map(PhysAddr::value).orElse(-1L);
            if (p < 0 || (p & 7) != 0 || p + NODE_SIZE > ram.size()) {
                String where = prev == 0 ? "head" : String.format("after node V0x%x", prev);
                problems.add(String.format("%s list: node V0x%x %s is not an aligned %d-byte node inside the direct map"
                        + " of RAM", list, node, where, NODE_SIZE));
                break;
            }
            int kind = ram.read32(p + N_KIND);
            if (kind < 0 || kind >= VmaKind.values().length) {
                problems.add(String.format("%s list: node V0x%x holds kind %d, expected 0..%d", list, node, kind,
                        VmaKind.values().length - 1));
                break;
            }
            nodes.add(Vma.of(ram.read64(p + N_START), ram.read64(p + N_END), ram.read64(p + N_FLAGS), VmaKind.of(kind)));
            prev = node;
            node = ram.read64(p + N_NEXT);
        }
        return new Walked(List.copyOf(nodes), problems);
    }

    /** Each node a page-aligned, non-empty range inside the vmalloc range, sorted, not overlapping, of the list's kind. */
    private static void checkList(MmRoot root, Walked walked, String list, List<String> problems) {
        problems.addAll(walked.problems());
        long low = root.vmallocStart().value(), high = root.vmallocEnd().value();
        Vma previous = null;
        for (Vma vma : walked.nodes()) {
            long start = vma.start().value(), end = vma.end().value();
            if (Long.compareUnsigned(start, low) < 0 || Long.compareUnsigned(end, high) > 0
                    || Long.compareUnsigned(start, end) >= 0 || ((start | end) & (PAGE - 1)) != 0) {
                problems.add(String.format("%s list: %s is not a page-aligned range inside the vmalloc range"
                        + " [V0x%x, V0x%x)", list, vma, low, high));
            }
            if ((vma.kind() == VmaKind.FREE) != list.equals("free-area")) {
                problems.add(String.format("%s list: %s has kind %s", list, vma, vma.kind()));
            }
            if (previous != null && vma.start().compareTo(previous.end()) < 0) {
                problems.add(String.format("%s list: %s starts before the end of the node before it, %s", list, vma,
                        previous));
            }
            previous = vma;
        }
    }
}
