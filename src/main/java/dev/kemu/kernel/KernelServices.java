package dev.kemu.kernel;

import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.FreeResult;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.mm.MapResult;
import dev.kemu.kernel.mm.MmLayout;
import dev.kemu.kernel.mm.PageSize;
import dev.kemu.kernel.mm.PageTables;
import dev.kemu.kernel.mm.PhysRange;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.Machine;
import dev.kemu.machine.PageTableEntry;
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
 */
public final class KernelServices {
    private static final Logger log = LoggerFactory.getLogger(KernelServices.class);

    private final Machine machine;
    private final LongFunction<String> symbolizer;
    private final List<InvalidFree> invalidFrees = new ArrayList<>();
    private KernelMemory memory;

    public KernelServices(Machine machine, HypercallPort port, LongFunction<String> symbolizer) {
        this.machine = machine;
        this.symbolizer = symbolizer;
        port.register(HC_MM_INIT, 3, (m, a) -> init(a[0], a[1], a[2]));
        port.register(HC_FRAME_ALLOC, 2, this::frameAlloc);
        port.register(HC_FRAME_FREE, 2, (m, a) -> ready() ? reportFree("frame_free", a[0],
                (int) a[1] < 0 || a[1] > MmLayout.MAX_ORDER ? FreeResult.WRONG_ORDER
                        : memory.frames().free(a[0], (int) a[1], FrameType.ALLOCATED)) : ENODEV);
        port.register(HC_VMMAP, 3, this::vmmap);
        port.register(HC_VMUNMAP, 2, this::vmunmap);
        port.register(HC_TRANSLATE, 1, (m, a) -> ready() ? memory.pageTables().translate(a[0]).orElse(EFAULT) : ENODEV);
        port.register(HC_PROTECT, 2, (m, a) -> !ready() ? ENODEV : (a[1] & ~PageTables.ALLOWED_FLAGS) != 0 ? EINVAL
                : memory.pageTables().protect(a[0], a[1]).errno());
        port.register(HC_VMALLOC, 1, (m, a) -> ready() ? orNoMemory(memory.vmalloc().allocate(a[0])) : ENODEV);
        port.register(HC_VFREE, 1, (m, a) -> ready() ? reportFree("vfree", a[0], memory.vmalloc().free(a[0])) : ENODEV);
        port.register(HC_CACHE_CREATE, 4, this::cacheCreate);
        port.register(HC_CACHE_ALLOC, 2, (m, a) -> !ready() ? ENODEV : !memory.slabs().isActive((int) a[0]) ? EINVAL
                : orNoMemory(memory.slabs().allocate((int) a[0], (a[1] & ALLOC_ZERO) != 0)));
        port.register(HC_CACHE_FREE, 2, (m, a) -> !ready() ? ENODEV : !memory.slabs().isActive((int) a[0]) ? EINVAL
                : reportFree("kmem_cache_free", a[1], memory.slabs().free((int) a[0], a[1])));
        port.register(HC_CACHE_DESTROY, 1, (m, a) -> !ready() ? ENODEV : !memory.slabs().isActive((int) a[0]) ? EINVAL
                : memory.slabs().destroy((int) a[0]) ? 0 : EBUSY);
        port.register(HC_KMALLOC, 2, (m, a) -> ready() ? orNoMemory(memory.kmalloc().allocate(a[0], (a[1] & ALLOC_ZERO) != 0))
                : ENODEV);
        port.register(HC_KFREE, 1, (m, a) -> ready() ? reportFree("kfree", a[0], memory.kmalloc().free(a[0])) : ENODEV);
        port.register(HC_VMA_RESERVE, 2, (m, a) -> ready() ? orNoMemory(memory.demandPaging().reserve(a[0], a[1])) : ENODEV);
        port.register(HC_VMA_RELEASE, 1, (m, a) -> ready() ? reportFree("vma_release", a[0],
                memory.demandPaging().release(a[0])) : ENODEV);
        port.register(HC_MM_STAT, 1, (m, a) -> !ready() ? ENODEV : switch ((int) a[0]) {
            case STAT_FREE_FRAMES -> memory.root().freeFrames();
            case STAT_TOTAL_FRAMES -> memory.root().frameCount();
            case STAT_DIRECT_MAP -> memory.root().directMapBase();
            default -> EINVAL;
        });
    }

    /** The memory services, once the guest initialised them. */
    public Optional<KernelMemory> memory() {
        return Optional.ofNullable(memory);
    }

    public List<InvalidFree> invalidFrees() {
        return List.copyOf(invalidFrees);
    }

    /** Forgets the refused-free reports (the test harness calls this between tests). */
    public void clearReports() {
        invalidFrees.clear();
    }

    private boolean ready() {
        return memory != null;
    }

    private long init(long bootInfoVirt, long kernelStart, long kernelEnd) {
        if (memory != null) {
            return EBUSY;
        }
        GuestRam ram = machine.ram();
        long root = (kernelEnd + MmLayout.PAGE - 1) & -MmLayout.PAGE;
        long bootInfo = machine.physical(bootInfoVirt);
        if (bootInfo < 0 || kernelStart >= kernelEnd || root + (1 << 20) > ram.size()) {
            log.warn("mm_init: bad arguments: boot info V0x{}, kernel [P0x{}, P0x{})", Long.toHexString(bootInfoVirt),
                    Long.toHexString(kernelStart), Long.toHexString(kernelEnd));
            return EINVAL;
        }
        MultibootMemoryMap map = MultibootMemoryMap.read(ram, bootInfo);
        List<PhysRange> used = new ArrayList<>(map.bootPages());
        used.add(new PhysRange(kernelStart, kernelEnd, FrameType.KERNEL_IMAGE));
        long cr3 = machine.register(X86Reg.CR3);
        memory = KernelMemory.initialize(ram, root, map.usable(), used, cr3, machine::flushTlb);
        log.debug("mm_init: root P0x{}, {} free frames", Long.toHexString(root), memory.root().freeFrames());
        return 0;
    }

    private long frameAlloc(Machine m, long[] a) {
        if (!ready()) {
            return ENODEV;
        }
        if (a[0] < 0 || a[0] > MmLayout.MAX_ORDER || (a[1] & ~ALLOC_ZERO) != 0) {
            return EINVAL;
        }
        long phys = memory.frames().allocate((int) a[0], FrameType.ALLOCATED, (a[1] & ALLOC_ZERO) != 0);
        return phys < 0 ? ENOMEM : phys;
    }

    private long vmmap(Machine m, long[] a) {
        if (!ready()) {
            return ENODEV;
        }
        boolean huge = (a[2] & MAP_HUGE) != 0;
        long flags = a[2] & ~MAP_HUGE & ~PageTableEntry.PRESENT;
        if ((flags & ~PageTables.ALLOWED_FLAGS) != 0) {
            return EINVAL;
        }
        return memory.pageTables().map(a[0], a[1], huge ? PageSize.SIZE_2M : PageSize.SIZE_4K, flags).errno();
    }

    private long vmunmap(Machine m, long[] a) {
        if (!ready()) {
            return ENODEV;
        }
        PageSize size = a[1] == PageSize.SIZE_4K.bytes() ? PageSize.SIZE_4K
                : a[1] == PageSize.SIZE_2M.bytes() ? PageSize.SIZE_2M : null;
        if (size == null) {
            return EINVAL;
        }
        return memory.pageTables().unmap(a[0], size).orElse(MapResult.NOT_MAPPED.errno());
    }

    private long cacheCreate(Machine m, long[] a) {
        if (!ready()) {
            return ENODEV;
        }
        if (a[3] != 0) {
            // A guest constructor would need nested emulation inside a hook; Unicorn cannot do that.
            log.warn("kmem_cache_create: guest constructors are not supported (ctor V0x{})", Long.toHexString(a[3]));
            return EINVAL;
        }
        Optional<String> name = guestString(a[0], 31);
        if (name.isEmpty() || a[1] <= 0 || a[1] > Integer.MAX_VALUE || a[2] < 0 || a[2] > MmLayout.PAGE) {
            return EINVAL;
        }
        return memory.slabs().create(name.get(), (int) a[1], (int) a[2], null).map(id -> (long) id).orElse(EINVAL);
    }

    private long reportFree(String call, long address, FreeResult result) {
        if (result != FreeResult.FREED) {
            long rip = machine.register(X86Reg.RIP);
            InvalidFree report = new InvalidFree(call, address, result, rip, symbolizer.apply(rip));
            invalidFrees.add(report);
            log.warn("invalid free: {}", report);
        }
        return result.errno();
    }

    private static long orNoMemory(long address) {
        return address == 0 ? ENOMEM : address;
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
