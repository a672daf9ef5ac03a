package dev.kemu.kernel.mm;

import dev.kemu.kernel.slab.Kmalloc;
import dev.kemu.kernel.slab.SlabAllocator;
import dev.kemu.kernel.slab.SlubDebug;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.PageWalker;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static dev.kemu.kernel.mm.MmLayout.*;

/**
 * The memory services of one machine, assembled over the mm root in guest RAM. Holding one
 * of these is holding a pointer: {@link #attach} rebuilds it from guest RAM alone.
 */
public final class KernelMemory {
    private final MmRoot root;
    private final BuddyAllocator buddy;
    private final PageTables tables;
    private final SlabAllocator slabs;
    private final Kmalloc kmalloc;
    private final VirtualAreas areas;
    private final Vmalloc vmalloc;
    private final DemandPaging demandPaging;
    private final AddressSpaces spaces;
    private final PageAllocator pages;
    /** Where a panic of the #PF handler goes; until someone listens it is rethrown (see {@link #onCorruption}). */
    private Consumer<KernelPanic> corruption = panic -> {
        throw panic;
    };

    private KernelMemory(MmRoot root, PageTables.TlbFlush tlb) {
        root.requireValid();
        this.root = root;
        this.buddy = new BuddyAllocator(root);
        this.tables = new PageTables(buddy, root.pml4(), tlb);
        this.slabs = new SlabAllocator(root, buddy);
        this.kmalloc = new Kmalloc(slabs, buddy);
        this.areas = new VirtualAreas(root, slabs);
        this.vmalloc = new Vmalloc(buddy, tables, areas);
        this.demandPaging = new DemandPaging(buddy, tables, areas, panic -> corruption.accept(panic));
        this.spaces = new AddressSpaces(root, buddy, slabs, tlb);
        this.pages = new PageAllocator(buddy);
        demandPaging.routeUserFaultsTo(spaces);
    }

    /**
     * Sets up the memory manager: frame table from the memory map, the page tables reachable
     * from {@code pml4} adopted (typed PAGE_TABLE and counted), the direct map of all RAM at
     * {@link MmLayout#DIRECT_MAP_BASE}, the kmalloc caches and the vmalloc area.
     */
    public static KernelMemory initialize(GuestRam ram, PhysAddr rootPhys, List<PhysRange> usable, List<PhysRange> used,
                                          PhysAddr pml4Address, PageTables.TlbFlush tlb) {
        return initialize(ram, rootPhys, usable, used, pml4Address, tlb, NumaTopology.single(), SlubDebug.OFF);
    }

    /** {@link #initialize} with --slub-debug modes for the caches it creates (and those created later). */
    public static KernelMemory initialize(GuestRam ram, PhysAddr rootPhys, List<PhysRange> usable, List<PhysRange> used,
                                          PhysAddr pml4Address, PageTables.TlbFlush tlb, SlubDebug slubDebug) {
        return initialize(ram, rootPhys, usable, used, pml4Address, tlb, NumaTopology.single(), slubDebug);
    }

    /** {@link #initialize} with RAM in the NUMA nodes of {@code topology} (what the SRAT says, {@link SratReader}). */
    public static KernelMemory initialize(GuestRam ram, PhysAddr rootPhys, List<PhysRange> usable, List<PhysRange> used,
                                          PhysAddr pml4Address, PageTables.TlbFlush tlb, NumaTopology topology) {
        return initialize(ram, rootPhys, usable, used, pml4Address, tlb, topology, SlubDebug.OFF);
    }

    /** {@link #initialize} with both: the NUMA nodes of {@code topology} and the --slub-debug modes. */
    public static KernelMemory initialize(GuestRam ram, PhysAddr rootPhys, List<PhysRange> usable, List<PhysRange> used,
                                          PhysAddr pml4Address, PageTables.TlbFlush tlb, NumaTopology topology,
                                          SlubDebug slubDebug) {
        long pml4 = pml4Address.value();
        List<Long> tableFrames = new PageWalker(ram).tables(pml4);
        List<PhysRange> allUsed = new ArrayList<>(used);
        for (long table : tableFrames) {
            allUsed.add(new PhysRange(PhysAddr.of(table), PhysAddr.of(table + PAGE), FrameType.PAGE_TABLE));
        }
        MmRoot root = PhysicalMemory.initialize(ram, rootPhys, usable, allUsed, topology);
        FrameTable frames = FrameTable.of(root);
        for (long table : tableFrames) {
            frames.setTag(table / PAGE, PageTables.presentEntries(ram, table));
        }
        PageTables.pinShared(ram, frames, pml4 & PageTableEntry.ADDRESS_MASK);
        root.set(ROOT_PML4, pml4 & PageTableEntry.ADDRESS_MASK);
        KernelMemory memory = new KernelMemory(root, tlb);
        long directMapFlags = PageTableEntry.WRITABLE | PageTableEntry.NO_EXECUTE | PageTableEntry.GLOBAL;
        for (long pa = 0; pa + (2L << 20) <= ram.size(); pa += 2L << 20) {
            MapResult result = memory.tables.map(VirtAddr.of(DIRECT_MAP_BASE + pa), PhysAddr.of(pa), PageSize.SIZE_2M, directMapFlags);
            if (result != MapResult.OK) {
                throw new IllegalStateException("direct map of P0x" + Long.toHexString(pa) + " failed: " + result.reason());
            }
        }
        for (long pa = ram.size() & -(2L << 20); pa < ram.size(); pa += PAGE) {
            memory.tables.map(VirtAddr.of(DIRECT_MAP_BASE + pa), PhysAddr.of(pa), PageSize.SIZE_4K, directMapFlags);
        }
        memory.slabs.debugNewCaches(slubDebug);
        Kmalloc.createCaches(memory.slabs);
        VirtualAreas.initialize(root, memory.slabs);
        return memory;
    }

    /** The services over an mm root that is already in guest RAM. */
    public static KernelMemory attach(GuestRam ram, PhysAddr rootPhys, PageTables.TlbFlush tlb) {
        return new KernelMemory(new MmRoot(ram, rootPhys), tlb);
    }

    public MmRoot root() {
        return root;
    }

    public BuddyAllocator frames() {
        return buddy;
    }

    public PageTables pageTables() {
        return tables;
    }

    public SlabAllocator slabs() {
        return slabs;
    }

    public Kmalloc kmalloc() {
        return kmalloc;
    }

    public VirtualAreas areas() {
        return areas;
    }

    public Vmalloc vmalloc() {
        return vmalloc;
    }

    /**
     * Sends panics of the #PF handler (which runs inside the CPU's exception hook, where no
     * caller could catch them) to {@code sink} instead of throwing them.
     */
    public void onCorruption(Consumer<KernelPanic> sink) {
        this.corruption = sink;
    }

    public DemandPaging demandPaging() {
        return demandPaging;
    }

    /** get_free_pages with GFP flags: zones, zonelist fallback, the atomic reserve. */
    public PageAllocator pages() {
        return pages;
    }

    public AddressSpaces spaces() {
        return spaces;
    }

    /**
     * Where the CPU's CR3 is read from: the #PF handler serves the user half of whichever space
     * it selects, and page-table edits of a space flush the TLB only while it is active.
     */
    public void activeSpaceFrom(java.util.function.LongSupplier cr3) {
        spaces.activeFrom(cr3);
    }

    /**
     * Everything the checkers find wrong in the metadata (empty = consistent). Never throws:
     * the metadata is guest memory, and a broken root or a structure the checkers cannot walk
     * is itself a finding.
     */
    public List<String> check() {
        List<String> problems = new ArrayList<>(FrameChecker.rootProblems(root));
        if (!problems.isEmpty()) {
            return problems;
        }
        run("frame checker", () -> FrameChecker.check(root), problems);
        run("slab checker", () -> dev.kemu.kernel.slab.SlabChecker.check(root), problems);
        run("page-table checker", () -> PageTableChecker.checkCounts(root, SpaceChecker.pml4s(spaces)), problems);
        run("VMA checker", () -> VmaChecker.check(root), problems);
        run("address-space checker", () -> SpaceChecker.check(root, spaces), problems);
        return problems;
    }

    private static void run(String checker, java.util.function.Supplier<List<String>> check, List<String> problems) {
        try {
            problems.addAll(check.get());
        } catch (KernelPanic | IndexOutOfBoundsException e) {
            // A last line of defence: the checkers test what they follow, but a finding beats a crash.
            problems.add(checker + " could not finish: " + e.getMessage());
        }
    }
}
