package dev.kemu.kernel.hostile;

import dev.kemu.kernel.mm.DemandPaging;
import dev.kemu.kernel.mm.PageTables;
import dev.kemu.kernel.mm.Vma;
import dev.kemu.kernel.mm.VmaKind;
import dev.kemu.machine.PageTableEntry;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static dev.kemu.kernel.GuestAbi.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The page-table and VMA services against a reference model (issue 11): random sequences of
 * {@code HC_VMMAP}, {@code HC_VMUNMAP}, {@code HC_TRANSLATE}, {@code HC_PROTECT},
 * {@code HC_VMA_RESERVE}, first touches of VMA pages (demand paging, through the fault handler
 * the trap router calls) and {@code HC_VMA_RELEASE}, called as the guest calls them. The model
 * is a map of va to (pa, flags, size) and a sorted map of demand-paged VMAs with their touched
 * pages. Every result must be the model's; at the end every mapping translates to its frame
 * with its flags, the kernel's VMA list is the model's, the checkers are clean, and tearing
 * everything down gives back every frame (no page table or demand-paged frame leaks).
 */
class VirtualMemoryModelTest {
    private static final long PAGE = 4096, TWO_MIB = 2L << 20;
    /** Sandboxes nothing else maps: two PDPT entries of one PML4 slot, and another PML4 slot. */
    private static final long[] WINDOWS = {0x0000_4000_0000_0000L, 0x0000_4000_4000_0000L, 0x0000_7000_0000_0000L};
    /** Page numbers inside a window's 4 MiB: collisions with each other and with the two huge pages. */
    private static final int[] PAGES = {0, 1, 2, 7, 511, 512, 513, 1023};
    private static final long[] FLAGS = {0, PageTableEntry.WRITABLE, PageTableEntry.WRITABLE | PageTableEntry.NO_EXECUTE,
            PageTableEntry.USER | PageTableEntry.WRITABLE, PageTableEntry.NO_EXECUTE, PageTableEntry.GLOBAL};

    sealed interface Op {}
    record MapOp(int window, int page, boolean huge, int frame, int flags) implements Op {}
    record UnmapOp(int window, int page, boolean huge) implements Op {}
    record TranslateOp(int window, int page, int offset) implements Op {}
    record ProtectOp(int window, int page, int flags) implements Op {}
    record ReserveOp(int pages, int flags) implements Op {}
    record TouchOp(int vma, int page, boolean write) implements Op {}
    record ReleaseOp(int vma) implements Op {}
    /** Generic map and unmap inside a VMA (the vmalloc range) are refused: the VMA frees what it maps. */
    record MapIntoVmaOp(int vma, int page) implements Op {}

    record Mapping(long pa, long flags, boolean huge) {
        long size() {
            return huge ? TWO_MIB : PAGE;
        }
    }

    record Area(long end, long flags, Map<Long, Long> touched) {}

    private static HypercallDriver driver;

    @Provide
    Arbitrary<List<Op>> sequences() {
        Arbitrary<Integer> window = Arbitraries.integers().between(0, WINDOWS.length - 1);
        Arbitrary<Integer> page = Arbitraries.integers().between(0, PAGES.length - 1);
        Arbitrary<Integer> flags = Arbitraries.integers().between(0, FLAGS.length - 1);
        Arbitrary<Integer> pick = Arbitraries.integers().between(0, 7);
        Arbitrary<Op> op = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Combinators.combine(window, page, Arbitraries.of(false, false, true), pick, flags)
                        .as(MapOp::new)),
                net.jqwik.api.Tuple.of(3, Combinators.combine(window, page, Arbitraries.of(false, false, true)).as(UnmapOp::new)),
                net.jqwik.api.Tuple.of(2, Combinators.combine(window, page, Arbitraries.integers().between(0, 4095))
                        .as(TranslateOp::new)),
                net.jqwik.api.Tuple.of(2, Combinators.combine(window, page, flags).as(ProtectOp::new)),
                net.jqwik.api.Tuple.of(2, Combinators.combine(Arbitraries.integers().between(1, 8), flags).as(ReserveOp::new)),
                net.jqwik.api.Tuple.of(4, Combinators.combine(pick, pick, Arbitraries.of(true, false)).as(TouchOp::new)),
                net.jqwik.api.Tuple.of(1, pick.map(ReleaseOp::new)),
                net.jqwik.api.Tuple.of(1, Combinators.combine(pick, pick).as(MapIntoVmaOp::new)));
        return op.list().ofMinSize(1).ofMaxSize(50).withSizeDistribution(RandomDistribution.uniform());
    }

    @Property(tries = 40, shrinking = ShrinkingMode.FULL)
    void pageTableAndVmaServices_agreeWithTheModel_andGiveBackEveryFrame(@ForAll("sequences") List<Op> ops) {
        HypercallDriver d = driver().reset();
        long[] frames = {d.call(HC_FRAME_ALLOC, 0, ALLOC_ZERO), d.call(HC_FRAME_ALLOC, 0, ALLOC_ZERO),
                d.call(HC_FRAME_ALLOC, 0, ALLOC_ZERO), d.call(HC_FRAME_ALLOC, 9, ALLOC_ZERO)};
        long freeAtStart = d.call(HC_MM_STAT, STAT_FREE_FRAMES);
        TreeMap<Long, Mapping> maps = new TreeMap<>(Long::compareUnsigned);
        TreeMap<Long, Area> vmas = new TreeMap<>(Long::compareUnsigned);
        try {
            for (Op op : ops) {
                apply(d, op, frames, maps, vmas);
            }
            checkFinalState(d, maps, vmas);
            tearDown(d, maps, vmas);
            assertEquals(freeAtStart, d.call(HC_MM_STAT, STAT_FREE_FRAMES), "free frames after tearing everything down");
            assertEquals(List.of(), d.memory().check());
        } catch (AssertionError failure) {
            throw new AssertionError(failure.getMessage() + "\nafter:\n" + d.transcript(), failure);
        }
    }

    private static void apply(HypercallDriver d, Op op, long[] frames, TreeMap<Long, Mapping> maps, TreeMap<Long, Area> vmas) {
        switch (op) {
            case MapOp(int window, int page, boolean huge, int frame, int flags) -> {
                long va = address(window, page, huge);
                long pa = huge ? frames[3] : frames[frame % 3];
                boolean taken = huge ? !maps.subMap(va, va + TWO_MIB).isEmpty() || covering(maps, va) != null
                        : covering(maps, va) != null;
                long result = d.call(HC_VMMAP, va, pa, FLAGS[flags] | (huge ? MAP_HUGE : 0));
                assertEquals(taken ? EEXIST : 0, result, op.toString());
                if (!taken) {
                    maps.put(va, new Mapping(pa, FLAGS[flags], huge));
                }
            }
            case UnmapOp(int window, int page, boolean huge) -> {
                long va = address(window, page, huge);
                Mapping mapping = maps.get(va);
                boolean exact = mapping != null && mapping.huge() == huge;
                assertEquals(exact ? mapping.pa() : EFAULT, d.call(HC_VMUNMAP, va, huge ? TWO_MIB : PAGE), op.toString());
                if (exact) {
                    maps.remove(va);
                }
            }
            case TranslateOp(int window, int page, int offset) -> {
                long va = address(window, page, false) + offset;
                Map.Entry<Long, Mapping> mapping = covering(maps, va);
                assertEquals(mapping == null ? EFAULT : mapping.getValue().pa() + (va - mapping.getKey()),
                        d.call(HC_TRANSLATE, va), op.toString());
            }
            case ProtectOp(int window, int page, int flags) -> {
                long va = address(window, page, false);
                Map.Entry<Long, Mapping> mapping = covering(maps, va);
                assertEquals(mapping == null ? EFAULT : 0, d.call(HC_PROTECT, va, FLAGS[flags]), op.toString());
                if (mapping != null) {
                    maps.put(mapping.getKey(), new Mapping(mapping.getValue().pa(), FLAGS[flags], mapping.getValue().huge()));
                }
            }
            case ReserveOp(int pages, int flags) -> {
                long start = d.call(HC_VMA_RESERVE, pages * PAGE, FLAGS[flags]);
                long end = start + pages * PAGE;
                assertTrue(start % PAGE == 0 && Long.compareUnsigned(start, d.memory().root().vmallocStart().value()) >= 0
                        && Long.compareUnsigned(end, d.memory().root().vmallocEnd().value()) <= 0, op + " gave 0x" + Long.toHexString(start));
                vmas.forEach((other, area) -> assertTrue(Long.compareUnsigned(end, other) <= 0
                        || Long.compareUnsigned(start, area.end()) >= 0, op + " overlaps the VMA at 0x" + Long.toHexString(other)));
                vmas.put(start, new Area(end, FLAGS[flags], new TreeMap<>()));
            }
            case TouchOp(int vma, int page, boolean write) -> {
                Map.Entry<Long, Area> area = nth(vmas, vma);
                if (area == null) {
                    return;
                }
                long va = pageOf(area, page);
                boolean allowed = !write || (area.getValue().flags() & PageTableEntry.WRITABLE) != 0;
                // The handler checks the access against the VMA's flags before it looks at the page tables.
                DemandPaging.Outcome expected = !allowed ? DemandPaging.Outcome.ACCESS_DENIED
                        : area.getValue().touched().containsKey(va) ? DemandPaging.Outcome.ALREADY_PRESENT
                        : DemandPaging.Outcome.MAPPED;
                DemandPaging.Outcome outcome = d.memory().demandPaging().handleFault(dev.kemu.machine.VirtAddr.of(va), write ? dev.kemu.machine.PageFaultCode.WRITE : 0);
                assertEquals(expected, outcome, op + " at 0x" + Long.toHexString(va));
                if (outcome == DemandPaging.Outcome.MAPPED) {
                    long frame = d.call(HC_TRANSLATE, va);
                    Set<Long> used = usedFrames(maps, vmas);
                    assertTrue(frame >= 0 && !used.contains(frame), op + " mapped frame 0x" + Long.toHexString(frame)
                            + ", which is in use");
                    assertTrue(java.util.Arrays.equals(new byte[(int) PAGE], d.machine().machine().ram().read(frame, (int) PAGE)),
                            op + ": the demand-paged frame is not zeroed");
                    area.getValue().touched().put(va, frame);
                }
            }
            case ReleaseOp(int vma) -> {
                Map.Entry<Long, Area> area = nth(vmas, vma);
                if (area == null) {
                    assertEquals(EINVAL, d.call(HC_VMA_RELEASE, WINDOWS[0]), "release of no VMA");
                    return;
                }
                assertEquals(0, d.call(HC_VMA_RELEASE, area.getKey()), op.toString());
                vmas.remove(area.getKey());
                area.getValue().touched().keySet().forEach(va -> assertEquals(EFAULT, d.call(HC_TRANSLATE, va),
                        "a released VMA's page 0x" + Long.toHexString(va) + " still translates"));
            }
            case MapIntoVmaOp(int vma, int page) -> {
                Map.Entry<Long, Area> area = nth(vmas, vma);
                if (area == null) {
                    return;
                }
                long va = pageOf(area, page);
                assertEquals(EBUSY, d.call(HC_VMMAP, va, 0, PageTableEntry.WRITABLE), op.toString());
                assertEquals(EBUSY, d.call(HC_VMUNMAP, va, PAGE), op.toString());
            }
        }
    }

    private static void checkFinalState(HypercallDriver d, TreeMap<Long, Mapping> maps, TreeMap<Long, Area> vmas) {
        maps.forEach((va, mapping) -> {
            long probe = va + (mapping.huge() ? 0x12345 : 0x123);
            assertEquals(mapping.pa() + (probe - va), d.call(HC_TRANSLATE, probe), "translation of 0x" + Long.toHexString(probe));
            long leaf = d.memory().pageTables().walk(dev.kemu.machine.VirtAddr.of(va)).levels().getLast().entry().raw();
            assertEquals(mapping.flags(), leaf & PageTables.ALLOWED_FLAGS, "flags of the mapping at 0x" + Long.toHexString(va));
        });
        List<Vma> kernel = d.memory().areas().vmas().stream().filter(v -> v.kind() == VmaKind.DEMAND_PAGED).toList();
        List<Vma> model = new ArrayList<>();
        vmas.forEach((start, area) -> model.add(new Vma(dev.kemu.machine.VirtAddr.of(start), dev.kemu.machine.VirtAddr.of(area.end()), area.flags(), VmaKind.DEMAND_PAGED)));
        assertEquals(model, kernel, "the demand-paged VMAs");
        vmas.values().forEach(area -> area.touched().forEach((va, frame) ->
                assertEquals(frame, d.call(HC_TRANSLATE, va), "touched page 0x" + Long.toHexString(va))));
        assertEquals(List.of(), d.memory().check());
    }

    private static void tearDown(HypercallDriver d, TreeMap<Long, Mapping> maps, TreeMap<Long, Area> vmas) {
        maps.forEach((va, mapping) -> assertEquals(mapping.pa(), d.call(HC_VMUNMAP, va, mapping.size()),
                "unmap of 0x" + Long.toHexString(va)));
        vmas.keySet().forEach(start -> assertEquals(0, d.call(HC_VMA_RELEASE, start), "release of 0x" + Long.toHexString(start)));
    }

    private static long address(int window, int page, boolean huge) {
        long offset = PAGES[page] * PAGE;
        return WINDOWS[window] + (huge ? offset & -TWO_MIB : offset);
    }

    private static Map.Entry<Long, Mapping> covering(TreeMap<Long, Mapping> maps, long va) {
        Map.Entry<Long, Mapping> below = maps.floorEntry(va);
        return below != null && Long.compareUnsigned(va - below.getKey(), below.getValue().size()) < 0 ? below : null;
    }

    private static Map.Entry<Long, Area> nth(TreeMap<Long, Area> vmas, int index) {
        if (vmas.isEmpty()) {
            return null;
        }
        // A copy: TreeMap.remove may move the successor's key and value into the removed node, which the
        // entry it handed out is.
        Map.Entry<Long, Area> entry = new ArrayList<>(vmas.entrySet()).get(index % vmas.size());
        return Map.entry(entry.getKey(), entry.getValue());
    }

    private static long pageOf(Map.Entry<Long, Area> area, int page) {
        long pages = (area.getValue().end() - area.getKey()) / PAGE;
        return area.getKey() + (page % pages) * PAGE;
    }

    private static Set<Long> usedFrames(TreeMap<Long, Mapping> maps, TreeMap<Long, Area> vmas) {
        Set<Long> used = new HashSet<>();
        maps.values().forEach(mapping -> used.add(mapping.pa()));
        vmas.values().forEach(area -> used.addAll(area.touched().values()));
        return used;
    }

    private static HypercallDriver driver() {
        if (driver == null) {
            driver = new HypercallDriver();
        }
        return driver;
    }

    @AfterContainer
    static void close() {
        if (driver != null) {
            driver.close();
            driver = null;
        }
    }
}
