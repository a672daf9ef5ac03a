package dev.kemu.kernel;

import dev.kemu.kernel.kasan.Kasan;
import dev.kemu.kernel.kasan.KasanReport;
import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.FreeResult;
import dev.kemu.kernel.mm.Gfp;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.mm.KernelPanic;
import dev.kemu.kernel.mm.MapResult;
import dev.kemu.kernel.mm.MmLayout;
import dev.kemu.kernel.mm.MmRoot;
import dev.kemu.kernel.mm.NumaTopology;
import dev.kemu.kernel.mm.PageSize;
import dev.kemu.kernel.mm.PageTables;
import dev.kemu.kernel.mm.PhysRange;
import dev.kemu.kernel.mm.SratReader;
import dev.kemu.kernel.slab.CacheLayout;
import dev.kemu.kernel.slab.SlubDebug;
import dev.kemu.kernel.slab.SlubReport;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.Machine;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.StopReason;
import dev.kemu.machine.VirtAddr;
import dev.kemu.unicorn.X86Reg;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.LongFunction;

import static dev.kemu.kernel.GuestAbi.*;

/**
 * The hypercall face of the memory services: argument checks, translation of guest
 * pointers, errno results, and reports of refused frees with the caller's RIP. Holds a
 * {@link KernelMemory} once the guest called HC_MM_INIT; that object is a view of guest RAM.
 *
 * <p>The guest is not trusted: every argument is checked as the full 64-bit register it
 * arrived in (no narrowing to {@code int} before the range check), unknown flag bits are
 * -EINVAL, the kernel's own caches (kmalloc size classes, vm_area) are -EPERM for the cache
 * calls, and the generic page-table calls are -EBUSY inside the range vmalloc and the VMAs
 * own. docs/ABI.md lists the rules.
 *
 * <p>The kernel's metadata lives in guest RAM the guest can overwrite through the direct map;
 * a {@link KernelPanic} from it is a finding about the guest (issue 11): the hypercall records
 * a {@link MetadataCorruption}, stops the run ({@link StopReason#KERNEL_PANIC}, the detail
 * names the call and the facts) and returns -EFAULT; the #PF handler of demand paging does the
 * same ({@link KernelMemory#onCorruption}); nothing escapes {@code Machine.run}.
 */
public final class KernelServices {
    private static final Logger log = LoggerFactory.getLogger(KernelServices.class);
    /** Bits HC_FRAME_ALLOC, HC_CACHE_ALLOC and HC_KMALLOC accept. */
    private static final long ALLOC_FLAGS = ALLOC_ZERO;
    private static final int KMALLOC_CACHES = CacheLayout.KMALLOC_MAX_SHIFT - CacheLayout.KMALLOC_MIN_SHIFT + 1;

    private final Machine machine;
    private final LongFunction<String> symbolizer;
    private final BoundedLog<InvalidFree> invalidFrees = new BoundedLog<>();
    private final BoundedLog<MetadataCorruption> corruptions = new BoundedLog<>();
    private final BoundedLog<SlubReport> slubReports = new BoundedLog<>();
    private SlubDebug slubDebug;
    private boolean kasanOn;
    /** Whether the modes are the suite's ({@code -Dkemu.memoryDebug}), whose findings go to its findings file. */
    private boolean suiteModes;
    private Kasan kasan;
    private final BoundedLog<KasanReport> kasanReports = new BoundedLog<>();
    private KernelMemory memory;
    /** The application processors' machines ({@link #serveOtherCpus}), which --kasan watches too. */
    private List<Machine> otherCpus = List.of();

    public KernelServices(Machine machine, HypercallPort port, LongFunction<String> symbolizer) {
        this.machine = machine;
        this.symbolizer = symbolizer;
        SuiteMemoryDebug suite = SuiteMemoryDebug.fromProperty();
        this.slubDebug = suite.slub();
        this.kasanOn = suite.kasan();
        this.suiteModes = suite.any();
        serve(port, HC_MM_INIT, 3, (m, a) -> init(a[0], a[1], a[2]));
        serve(port, HC_FRAME_ALLOC, 2, (m, a) -> ready() ? frameAlloc(a[0], a[1], NUMA_NO_NODE, m) : ENODEV);
        serve(port, HC_FRAME_ALLOC_NODE, 3, (m, a) -> ready() ? frameAlloc(a[0], a[1], a[2], m) : ENODEV);
        serve(port, HC_FRAME_FREE, 2, (m, a) -> ready() ? frameFree(a[0], a[1]) : ENODEV);
        serve(port, HC_VMMAP, 3, (m, a) -> ready() ? vmmap(a[0], a[1], a[2]) : ENODEV);
        serve(port, HC_VMUNMAP, 2, (m, a) -> ready() ? vmunmap(a[0], a[1]) : ENODEV);
        serve(port, HC_TRANSLATE, 1, (m, a) -> ready() ? memory.pageTables().translate(VirtAddr.of(a[0])).map(PhysAddr::value).orElse(EFAULT) : ENODEV);
        serve(port, HC_PROTECT, 2, (m, a) -> !ready() ? ENODEV : (a[1] & ~PageTables.ALLOWED_FLAGS) != 0 ? EINVAL
                : Errno.of(memory.pageTables().protect(VirtAddr.of(a[0]), a[1])));
        serve(port, HC_VMALLOC, 1, (m, a) -> !ready() ? ENODEV : a[0] == 0 ? EINVAL
                : Errno.virtualOrNoMemory(memory.vmalloc().allocate(a[0])));
        serve(port, HC_VFREE, 1, (m, a) -> ready() ? reportFree("vfree", a[0], memory.vmalloc().free(VirtAddr.of(a[0]))) : ENODEV);
        serve(port, HC_CACHE_CREATE, 4, (m, a) -> ready() ? cacheCreate(a[0], a[1], a[2], a[3]) : ENODEV);
        serve(port, HC_CACHE_ALLOC, 2, (m, a) -> ready() ? cacheAlloc(a[0], a[1]) : ENODEV);
        serve(port, HC_CACHE_FREE, 2, (m, a) -> ready() ? cacheFree(a[0], a[1]) : ENODEV);
        serve(port, HC_CACHE_DESTROY, 1, (m, a) -> ready() ? cacheDestroy(a[0]) : ENODEV);
        serve(port, HC_KMALLOC, 2, (m, a) -> ready() ? kmalloc(a[0], new Gfp(a[1])) : ENODEV);
        serve(port, HC_KFREE, 1, (m, a) -> ready() ? reportFree("kfree", a[0], memory.kmalloc().freeAddress(a[0])) : ENODEV);
        serve(port, HC_VMA_RESERVE, 2, (m, a) -> ready() ? vmaReserve(a[0], a[1]) : ENODEV);
        serve(port, HC_VMA_RELEASE, 1, (m, a) -> ready() ? reportFree("vma_release", a[0],
                memory.demandPaging().release(VirtAddr.of(a[0]))) : ENODEV);
        serve(port, HC_MM_STAT, 1, (m, a) -> ready() ? stat(a[0]) : ENODEV);
        serve(port, HC_CACHE_CTOR_NEXT, 1, (m, a) -> ready() ? cacheConstructNext(a[0]) : ENODEV);
        serve(port, HC_CACHE_CTOR, 1, (m, a) -> ready() ? cacheConstructor(a[0]) : ENODEV);
        serve(port, HC_SPACE_CREATE, 0, (m, a) -> ready() ? SpaceServices.create(memory.spaces()) : ENODEV);
        serve(port, HC_SPACE_DESTROY, 1, (m, a) -> ready() ? SpaceServices.destroy(memory.spaces(), a[0]) : ENODEV);
        serve(port, HC_SPACE_CLONE, 1, (m, a) -> ready() ? SpaceServices.clone(memory.spaces(), a[0]) : ENODEV);
        serve(port, HC_SPACE_MAP, 4, (m, a) -> ready() ? SpaceServices.map(memory.spaces(), a[0], a[1], a[2], a[3]) : ENODEV);
        serve(port, HC_SPACE_UNMAP, 3, (m, a) -> ready() ? SpaceServices.unmap(memory.spaces(), a[0], a[1], a[2]) : ENODEV);
        serve(port, HC_SPACE_PROTECT, 4, (m, a) -> ready() ? SpaceServices.protect(memory.spaces(), a[0], a[1], a[2], a[3])
                : ENODEV);
    }

    /** Registers {@code service} so that corrupted metadata stops the run with a finding instead of throwing. */
    private void serve(HypercallPort port, int number, int arguments, Hypercall service) {
        String call = hypercallName(number);
        port.register(number, arguments, (m, a) -> {
            try {
                return service.call(m, a);
            } catch (KernelPanic panic) {
                return corrupted(call, panic);
            }
        });
    }

    /** The call name a panic of the demand-paging fault handler is recorded under. */
    static final String PAGE_FAULT_HANDLER = "the #PF handler";

    private long corrupted(String call, KernelPanic panic) {
        String facts = panic.getMessage().replaceFirst("^kernel panic: ", "");
        long rip = machine.register(X86Reg.RIP);
        MetadataCorruption finding = new MetadataCorruption(call, facts, rip, symbolizer.apply(rip));
        corruptions.add(() -> finding);
        log.warn("{}", finding);
        machine.requestStop(StopReason.KERNEL_PANIC, 0, "kernel panic in " + call + ": " + facts);
        return EFAULT;
    }

    /** Hypercalls that stopped on corrupted kernel metadata, oldest first. */
    public List<MetadataCorruption> metadataCorruptions() {
        return corruptions.entries();
    }

    /** The memory services, once the guest initialised them. */
    public Optional<KernelMemory> memory() {
        return Optional.ofNullable(memory);
    }

    /** The refused frees since the last {@link #clearReports()}, oldest first, at most {@value BoundedLog#MAX_ENTRIES}. */
    public List<InvalidFree> invalidFrees() {
        return invalidFrees.entries();
    }

    /** Refused frees beyond the cap of {@link #invalidFrees()}: counted, not kept. */
    public long droppedInvalidFrees() {
        return invalidFrees.dropped();
    }

    /**
     * The --slub-debug modes the kmalloc caches (and caches created later) get; takes effect at
     * HC_MM_INIT, so set it before the guest runs. {@link IllegalStateException} once it ran.
     */
    public void slubDebug(SlubDebug modes) {
        if (memory != null) {
            throw new IllegalStateException("--slub-debug must be chosen before the guest initialises its memory"
                    + " services (HC_MM_INIT); they already are");
        }
        this.slubDebug = modes;
        this.suiteModes = false;
    }

    /** Slab debug findings (red zone, poison, double free), oldest first, at most {@value BoundedLog#MAX_ENTRIES}. */
    /**
     * --kasan: bad guest accesses to slab objects and vmalloc guard pages are reported at the faulting
     * instruction ({@link #kasanReports()}); turns on red zones and alloc/free tracking (Z, U) for
     * every cache. Like {@link #slubDebug}, it must be chosen before HC_MM_INIT.
     */
    public void kasan(boolean on) {
        if (memory != null) {
            throw new IllegalStateException("--kasan must be chosen before the guest initialises its memory (HC_MM_INIT)");
        }
        this.kasanOn = on;
        this.suiteModes = false;
    }

    /** The other CPUs of the machine (each its own engine over the same RAM): --kasan watches their accesses too. */
    public void serveOtherCpus(List<Machine> aps) {
        this.otherCpus = List.copyOf(aps);
    }

    /** The --kasan reports of this run, oldest first. */
    public List<KasanReport> kasanReports() {
        return kasanReports.entries();
    }

    /** A #PF no kernel service resolved: --kasan reports it when it hit a vmalloc guard page. */
    public void unresolvedPageFault(long cr2, int errorCode, long rip, Machine cpu) {
        if (kasan != null) {
            kasan.pageFault(cr2, errorCode, rip, cpu);
        }
    }

    public List<SlubReport> slubReports() {
        return slubReports.entries();
    }

    /** Runs the end-of-run validation of every debug cache; its findings join {@link #slubReports()}. */
    public List<SlubReport> validateSlabs() {
        if (memory != null) {
            memory.slabs().validateDebugCaches();
        }
        return slubReports();
    }

    /** Forgets the refused-free reports (the test harness calls this between tests). */
    public void clearReports() {
        invalidFrees.clear();
        corruptions.clear();
        slubReports.clear();
        kasanReports.clear();
    }

    /**
     * Guest RAM was just restored from a snapshot: host-side watchers of guest structures (--kasan's hooks
     * on slab pages) follow the slabs that exist now.
     */
    public void snapshotRestored() {
        if (kasan != null) {
            kasan.slabsRestored();
        }
    }

    private boolean ready() {
        return memory != null;
    }

    private long init(long bootInfoVirt, long kernelStart, long kernelEnd) {
        if (memory != null) {
            return EBUSY;
        }
        GuestRam ram = machine.ram();
        long bootInfo = machine.physical(bootInfoVirt);
        // The mm root goes right after the kernel image and needs about 1 MiB behind it.
        if (bootInfo < 0 || kernelStart < 0 || kernelStart >= kernelEnd || kernelEnd > ram.size() - (1 << 20) - MmLayout.PAGE) {
            log.warn("mm_init: bad arguments: boot info V0x{}, kernel [P0x{}, P0x{})", Long.toHexString(bootInfoVirt),
                    Long.toHexString(kernelStart), Long.toHexString(kernelEnd));
            return EINVAL;
        }
        MultibootMemoryMap map = MultibootMemoryMap.read(ram, bootInfo);
        long root = rootAfter(kernelEnd, map.bootPages());
        if (root > ram.size() - (1 << 20) - MmLayout.PAGE) {
            log.warn("mm_init: no room for the mm root after the kernel and its boot modules (P0x{})", Long.toHexString(root));
            return ENOMEM;
        }
        List<PhysRange> used = new ArrayList<>(map.bootPages());
        used.add(new PhysRange(PhysAddr.of(kernelStart), PhysAddr.of(kernelEnd), FrameType.KERNEL_IMAGE));
        long cr3 = machine.register(X86Reg.CR3);
        SratReader srat = new SratReader(ram);
        NumaTopology topology = srat.read();
        if (!srat.problem().isEmpty()) {
            log.warn("mm_init: one NUMA node: {}", srat.problem());
        }
        SlubDebug modes = kasanOn ? new SlubDebug(slubDebug.flags() | SlubDebug.RED_ZONE | SlubDebug.TRACK, List.of())
                : slubDebug;
        memory = KernelMemory.initialize(ram, PhysAddr.of(root), map.usable(), used, PhysAddr.of(cr3), machine::flushTlb,
                topology, modes);
        memory.slabs().reportDebugTo(new HypercallSite(machine), symbolizer, report -> {
            log.warn("slub debug:\n{}", report.text());
            slubReports.add(() -> report);
            if (suiteModes) {
                SuiteMemoryDebug.recordFinding(report.text());
            }
        });
        memory.onCorruption(panic -> corrupted(PAGE_FAULT_HANDLER, panic));
        if (kasanOn) {
            List<Machine> cpus = new ArrayList<>();
            cpus.add(machine);
            cpus.addAll(otherCpus);
            kasan = new Kasan(cpus, memory, symbolizer, report -> {
                if (kasanReports.hasRoom()) {
                    log.warn("kasan:\n{}", report.text());
                }
                kasanReports.add(() -> report);
                if (suiteModes) {
                    SuiteMemoryDebug.recordFinding(report.text());
                }
            });
        }
        memory.activeSpaceFrom(() -> machine.register(X86Reg.CR3));
        log.debug("mm_init: root P0x{}, {} free frames", Long.toHexString(root), memory.root().freeFrames());
        return 0;
    }

    /**
     * The mm root's frame: the first page after the kernel image that no boot range covers (a
     * Multiboot loader puts the modules right after the kernel), with room for the root's first MiB.
     */
    private static long rootAfter(long kernelEnd, List<PhysRange> boot) {
        long root = (kernelEnd + MmLayout.PAGE - 1) & -MmLayout.PAGE;
        boolean moved = true;
        while (moved) {
            moved = false;
            for (PhysRange range : boot) {
                if (range.start().value() < root + (1 << 20) && range.end().value() > root) {
                    root = (range.end().value() + MmLayout.PAGE - 1) & -MmLayout.PAGE;
                    moved = true;
                }
            }
        }
        return root;
    }

    /**
     * get_free_pages and alloc_pages_node: the flags are GFP bits (ALLOC_ZERO is __GFP_ZERO), the node is one
     * of the SRAT's or NUMA_NO_NODE for the node of the CPU that called (its APIC ID in the SRAT), docs/ABI.md.
     */
    private long frameAlloc(long order, long flags, long node, Machine caller) {
        Gfp gfp = new Gfp(flags);
        int nodes = memory.root().nodes().count();
        if (order < 0 || order > MmLayout.MAX_ORDER || !gfp.valid() || node < NUMA_NO_NODE || node >= nodes) {
            return EINVAL;
        }
        int preferred = node == NUMA_NO_NODE ? memory.root().nodes().nodeOfCpu(apicId(caller)) : (int) node;
        return Errno.physicalOrNoMemory(memory.pages().allocPagesNode(preferred, (int) order, FrameType.ALLOCATED, gfp));
    }

    /** The APIC ID of the CPU {@code caller} runs, 0 for a machine without interrupt hardware. */
    private static int apicId(Machine caller) {
        return caller == null ? 0 : caller.interrupts().map(i -> i.localApic().apicId()).orElse(0);
    }

    private long frameFree(long phys, long order) {
        FreeResult result = order < 0 || order > MmLayout.MAX_ORDER ? FreeResult.WRONG_ORDER
                : memory.frames().free(PhysAddr.of(phys), (int) order, FrameType.ALLOCATED);
        return reportFree("frame_free", phys, result);
    }

    private long kmalloc(long size, Gfp gfp) {
        return gfp.valid() ? Errno.addressOrNoMemory(memory.kmalloc().allocateAddress(size, gfp)) : EINVAL;
    }

    private long vmmap(long va, long pa, long flags) {
        boolean huge = (flags & MAP_HUGE) != 0;
        long leafFlags = flags & ~MAP_HUGE & ~PageTableEntry.PRESENT;
        if ((leafFlags & ~PageTables.ALLOWED_FLAGS) != 0) {
            return EINVAL;
        }
        PageSize size = huge ? PageSize.SIZE_2M : PageSize.SIZE_4K;
        if (ownedByVirtualAreas(va, size)) {
            return EBUSY;
        }
        long result = Errno.of(memory.pageTables().map(VirtAddr.of(va), PhysAddr.of(pa), size, leafFlags));
        if (result == 0 && va < 0) {
            memory.spaces().syncKernelHalf(); // a new kernel-half PML4 entry reaches every address space
        }
        return result;
    }

    private long vmunmap(long va, long bytes) {
        PageSize size = bytes == PageSize.SIZE_4K.bytes() ? PageSize.SIZE_4K
                : bytes == PageSize.SIZE_2M.bytes() ? PageSize.SIZE_2M : null;
        if (size == null) {
            return EINVAL;
        }
        if (ownedByVirtualAreas(va, size)) {
            return EBUSY;
        }
        return memory.pageTables().unmap(VirtAddr.of(va), size).map(PhysAddr::value).orElse(Errno.of(MapResult.NOT_MAPPED));
    }

    /**
     * True when {@code [va, va + size)} reaches into the vmalloc range: its pages belong to
     * vmalloc areas and VMAs, which free what they mapped; a generic map or unmap there would
     * leave them freeing frames they do not own (issue 11, defect 5).
     */
    private boolean ownedByVirtualAreas(long va, PageSize size) {
        MmRoot root = memory.root();
        long last = va + size.bytes() - 1;
        return Long.compareUnsigned(va, root.vmallocEnd().value()) < 0 && Long.compareUnsigned(last, root.vmallocStart().value()) >= 0
                && Long.compareUnsigned(last, va) >= 0;
    }

    private long cacheCreate(long nameVirt, long objectSize, long align, long ctor) {
        Optional<String> name = guestString(nameVirt, CacheLayout.NAME_MAX);
        if (name.isEmpty() || objectSize <= 0 || objectSize > Integer.MAX_VALUE || align < 0 || align > MmLayout.PAGE) {
            return EINVAL;
        }
        Optional<Integer> id = ctor == 0 ? memory.slabs().create(name.get(), (int) objectSize, (int) align, null)
                : memory.slabs().createWithGuestConstructor(name.get(), (int) objectSize, (int) align, VirtAddr.of(ctor));
        return id.map(i -> (long) i).orElse(EINVAL);
    }

    /** HC_CACHE_CTOR_NEXT: the next object the guest constructor must meet, 0 when none. */
    private long cacheConstructNext(long id) {
        long refused = guestCache(id);
        return refused != 0 ? refused : memory.slabs().nextToConstruct((int) id).map(VirtAddr::value).orElse(0L);
    }

    /** HC_CACHE_CTOR: the guest constructor of a cache, 0 when it has none. */
    private long cacheConstructor(long id) {
        long refused = guestCache(id);
        return refused != 0 ? refused : memory.slabs().cache((int) id).guestConstructor().map(VirtAddr::value).orElse(0L);
    }

    private long cacheAlloc(long id, long flags) {
        long refused = guestCache(id);
        if (refused != 0) {
            return refused;
        }
        boolean constructed = memory.slabs().cache((int) id).guestConstructor().isPresent();
        // A cache's slabs have one zone: a zone modifier here is Linux's GFP_SLAB_BUG_MASK case, refused.
        if ((flags & ~(ALLOC_FLAGS | Gfp.ATOMIC)) != 0 || (constructed && (flags & ALLOC_ZERO) != 0)) {
            return EINVAL; // zeroing would undo the constructor (Linux refuses __GFP_ZERO with a ctor too)
        }
        if (memory.slabs().constructionPending((int) id)) {
            return EBUSY; // construct the current slab's objects first (HC_CACHE_CTOR_NEXT until 0)
        }
        return Errno.virtualOrNoMemory(memory.slabs().allocate((int) id, (flags & ALLOC_ZERO) != 0));
    }

    private long cacheFree(long id, long object) {
        long refused = guestCache(id);
        return refused != 0 ? refused : reportFree("kmem_cache_free", object, memory.slabs().free((int) id, VirtAddr.of(object)));
    }

    private long cacheDestroy(long id) {
        long refused = guestCache(id);
        return refused != 0 ? refused : Errno.of(memory.slabs().destroy((int) id));
    }

    /**
     * 0 when {@code id} names a cache the guest created and may use through the cache calls;
     * -EINVAL for no such cache; -EPERM for the kernel's own caches, which only kmalloc/kfree
     * and the VMA services may touch (destroying kmalloc-32 or freeing a live vm_area node
     * would corrupt the kernel's state, issue 11 defect 4).
     */
    private long guestCache(long id) {
        MmRoot root = memory.root();
        if (id < 0 || id >= root.cacheCapacity() || !memory.slabs().isActive((int) id)) {
            return EINVAL;
        }
        long kmallocFirst = root.kmallocFirstCache();
        boolean internal = id == root.vmAreaCache() || (id >= kmallocFirst && id < kmallocFirst + KMALLOC_CACHES)
                || memory.slabs().cache((int) id).isKmalloc();
        return internal ? EPERM : 0;
    }

    private long vmaReserve(long size, long flags) {
        if (size == 0 || (flags & ~PageTables.ALLOWED_FLAGS) != 0) {
            return EINVAL;
        }
        return Errno.virtualOrNoMemory(memory.demandPaging().reserve(size, flags));
    }

    private long stat(long selector) {
        if (selector == STAT_FREE_FRAMES) {
            return memory.root().freeFrames();
        }
        if (selector == STAT_TOTAL_FRAMES) {
            return memory.root().frameCount();
        }
        return selector == STAT_DIRECT_MAP ? memory.root().directMapBase().value() : EINVAL;
    }

    /**
     * Records a refused free with the caller's RIP and logs it at DEBUG: refusing is the
     * services doing their job (kmain's demo double-frees on purpose), so whoever shows the
     * records (the CLI, a test) decides how loud to be.
     */
    private long reportFree(String call, long address, FreeResult result) {
        if (result != FreeResult.FREED) {
            invalidFrees.add(() -> {
                long rip = machine.register(X86Reg.RIP);
                InvalidFree report = new InvalidFree(call, address, result, rip, symbolizer.apply(rip));
                log.debug("refused free: {}", report);
                return report;
            });
        }
        return Errno.of(result);
    }

    /** A NUL-terminated string of at most {@code max} characters at guest-virtual {@code virtual}. */
    private Optional<String> guestString(long virtual, int max) {
        byte[] bytes = machine.readVirtual(virtual, max + 1);
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                return Optional.of(new String(bytes, 0, i, java.nio.charset.StandardCharsets.ISO_8859_1));
            }
        }
        return Optional.empty();
    }
}
