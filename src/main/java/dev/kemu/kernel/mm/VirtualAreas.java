package dev.kemu.kernel.mm;

import dev.kemu.kernel.slab.SlabAllocator;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.util.List;
import java.util.Optional;

import static dev.kemu.kernel.mm.MmLayout.*;

/**
 * Kernel virtual areas in the vmalloc range: first fit with splitting over a sorted list of
 * free areas, merging neighbours on free, and a sorted list of VMAs. Both lists are chains of
 * vm_area nodes from the "vm_area" slab cache, so the guest can walk them:
 *
 * <pre>
 * vm_area (40 bytes)  +0 u64 start  +8 u64 end (exclusive)  +16 u64 flags  +24 u32 kind  +32 u64 next
 * </pre>
 *
 * {@code next} is the direct-map address of the next node, 0 at the end; list heads are in
 * the mm root (free areas at +72, VMAs at +80).
 */
public final class VirtualAreas {
    public static final int NODE_SIZE = 40;
    static final int N_START = 0, N_END = 8, N_FLAGS = 16, N_KIND = 24, N_NEXT = 32;

    private final MmRoot root;
    private final GuestRam ram;
    private final SlabAllocator slabs;

    public VirtualAreas(MmRoot root, SlabAllocator slabs) {
        this.root = root;
        this.ram = root.ram();
        this.slabs = slabs;
    }

    /** Creates the vm_area cache and one free area covering the whole vmalloc range. */
    public static void initialize(MmRoot root, SlabAllocator slabs) {
        int cache = slabs.create("vm_area", NODE_SIZE, 8, null).orElseThrow();
        root.set32(ROOT_VM_AREA_CACHE, cache);
        VirtualAreas areas = new VirtualAreas(root, slabs);
        long node = areas.newNode(root.get(ROOT_VMALLOC_START), root.get(ROOT_VMALLOC_END), 0, VmaKind.FREE);
        root.set(ROOT_FREE_AREAS, node);
    }

    /**
     * Reserves {@code size} bytes (page multiple) as a VMA of {@code kind}; returns its start,
     * or empty when no free area is large enough or no node can be allocated.
     */
    public Optional<VirtAddr> allocate(long size, VmaKind kind, long flags) {
        if (size <= 0 || (size & (PAGE - 1)) != 0 || kind == VmaKind.FREE) {
            throw new IllegalArgumentException("area size must be a positive page multiple, got " + size);
        }
        long prev = 0;
        Walk walk = new Walk("free-area");
        for (long node = root.get(ROOT_FREE_AREAS); node != 0; prev = node, node = walk.next(node)) {
            long start = start(node), end = end(node);
            if (Long.compareUnsigned(end - start, size) < 0) {
                continue;
            }
            long vma;
            if (end - start == size) {
                setNext(prev, ROOT_FREE_AREAS, next(node));
                vma = node;
                write(vma, start, end, flags, kind);
            } else {
                vma = newNode(start, start + size, flags, kind);
                if (vma == 0) {
                    return Optional.empty();
                }
                phys(node, N_START, start + size);
            }
            insertSorted(ROOT_VMAS, vma);
            return Optional.of(VirtAddr.of(start));
        }
        return Optional.empty();
    }

    /** Removes the VMA starting at {@code start} and returns its range to the free list. */
    public Optional<Vma> free(VirtAddr area) {
        long start = area.value();
        long prev = 0;
        Walk walk = new Walk("VMA");
        for (long node = root.get(ROOT_VMAS); node != 0; prev = node, node = walk.next(node)) {
            if (start(node) == start) {
                Vma vma = read(node);
                setNext(prev, ROOT_VMAS, next(node));
                write(node, vma.start().value(), vma.end().value(), 0, VmaKind.FREE);
                insertSorted(ROOT_FREE_AREAS, node);
                mergeAround(node);
                return Optional.of(vma);
            }
        }
        return Optional.empty();
    }

    /** Splits the VMA at {@code start} so that its tail from {@code at} becomes a VMA of {@code tailKind}. */
    public boolean split(VirtAddr area, VirtAddr tailStart, VmaKind tailKind) {
        long start = area.value(), at = tailStart.value();
        Walk walk = new Walk("VMA");
        for (long node = root.get(ROOT_VMAS); node != 0; node = walk.next(node)) {
            if (start(node) == start && Long.compareUnsigned(at, start) > 0 && Long.compareUnsigned(at, end(node)) < 0) {
                long tail = newNode(at, end(node), ram.read64(phys(node) + N_FLAGS), tailKind);
                if (tail == 0) {
                    return false;
                }
                phys(node, N_END, at);
                ram.write64(phys(tail) + N_NEXT, next(node));
                ram.write64(phys(node) + N_NEXT, tail);
                return true;
            }
        }
        return false;
    }

    /** The VMA holding {@code va}; panics with the facts when the list in guest RAM is broken. */
    public Optional<Vma> find(VirtAddr va) {
        long address = va.value();
        Walk walk = new Walk("VMA");
        for (long node = root.get(ROOT_VMAS); node != 0; node = walk.next(node)) {
            if (read(node).contains(va)) {
                return Optional.of(read(node));
            }
        }
        return Optional.empty();
    }

    /**
     * The VMA holding {@code address} among the VMAs before the first broken link; never throws.
     * For reports built while the guest may have overwritten the list (a fault analysis runs right
     * after the #PF handler found it broken); the services use {@link #find}, which panics.
     */
    public Optional<Vma> findForReport(VirtAddr address) {
        return vmas().stream().filter(vma -> vma.contains(address)).findFirst();
    }

    /**
     * Stops with the facts unless {@code vma} is a non-empty, page-aligned range inside the
     * vmalloc range. Its owners loop over its pages, and the bounds come from guest RAM: a
     * corrupted end would keep the host busy for hours.
     */
    public Vma requireSound(Vma vma) {
        long low = root.get(ROOT_VMALLOC_START), high = root.get(ROOT_VMALLOC_END);
        long start = vma.start().value(), end = vma.end().value();
        if (Long.compareUnsigned(start, low) < 0 || Long.compareUnsigned(end, high) > 0
                || Long.compareUnsigned(start, end) >= 0 || ((start | end) & (PAGE - 1)) != 0) {
            throw new KernelPanic(String.format("VMA [V0x%x, V0x%x) is not a page-aligned range inside the vmalloc range"
                    + " [V0x%x, V0x%x)", start, end, low, high));
        }
        return vma;
    }

    /**
     * The VMAs in address order, up to the first broken link: never throws, whatever the guest
     * wrote into the list ({@link VmaChecker} reports what broke).
     */
    public List<Vma> vmas() {
        return VmaChecker.walk(root, ROOT_VMAS).nodes();
    }

    /** The free areas in address order, up to the first broken link; never throws. */
    public List<Vma> freeAreas() {
        return VmaChecker.walk(root, ROOT_FREE_AREAS).nodes();
    }

    private void insertSorted(int headOffset, long node) {
        long prev = 0;
        long at = root.get(headOffset);
        Walk walk = new Walk(listName(headOffset));
        while (at != 0 && Long.compareUnsigned(start(at), start(node)) < 0) {
            prev = at;
            at = walk.next(at);
        }
        ram.write64(phys(node) + N_NEXT, at);
        setNext(prev, headOffset, node);
    }

    private void mergeAround(long node) {
        long next = next(node);
        if (next != 0 && end(node) == start(next)) {
            phys(node, N_END, end(next));
            ram.write64(phys(node) + N_NEXT, next(next));
            freeNode(next);
        }
        long prev = 0;
        Walk walk = new Walk("free-area");
        for (long at = root.get(ROOT_FREE_AREAS); at != node; at = walk.next(at)) {
            if (at == 0) {
                throw new KernelPanic("vm_area node V0x" + Long.toHexString(node) + " just inserted is not on the free-area list");
            }
            prev = at;
        }
        if (prev != 0 && end(prev) == start(node)) {
            phys(prev, N_END, end(node));
            ram.write64(phys(prev) + N_NEXT, next(node));
            freeNode(node);
        }
    }

    private long newNode(long start, long end, long flags, VmaKind kind) {
        long node = slabs.allocate(root.get32(ROOT_VM_AREA_CACHE), false).map(VirtAddr::value).orElse(0L);
        if (node != 0) {
            write(node, start, end, flags, kind);
            ram.write64(phys(node) + N_NEXT, 0); // a new object's bytes are undefined (0x6b under --slub-debug=P)
        }
        return node;
    }

    private void freeNode(long node) {
        FreeResult result = slabs.free(root.get32(ROOT_VM_AREA_CACHE), VirtAddr.of(node));
        if (result != FreeResult.FREED) {
            throw new KernelPanic("vm_area node V0x" + Long.toHexString(node) + " could not be freed: " + result.reason());
        }
    }

    private void write(long node, long start, long end, long flags, VmaKind kind) {
        long p = phys(node);
        ram.write64(p + N_START, start);
        ram.write64(p + N_END, end);
        ram.write64(p + N_FLAGS, flags);
        ram.write32(p + N_KIND, kind.ordinal());
    }

    private Vma read(long node) {
        long p = phys(node);
        return Vma.of(ram.read64(p + N_START), ram.read64(p + N_END), ram.read64(p + N_FLAGS),
                VmaKind.of(ram.read32(p + N_KIND)));
    }

    private void setNext(long prev, int headOffset, long value) {
        if (prev == 0) {
            root.set(headOffset, value);
        } else {
            ram.write64(phys(prev) + N_NEXT, value);
        }
    }

    private long phys(long node) {
        long p = root.physicalOf(VirtAddr.of(node)).map(PhysAddr::value).orElse(-1L);
        if (p < 0 || (p & 7) != 0 || p + NODE_SIZE > ram.size()) {
            throw new KernelPanic("vm_area node V0x" + Long.toHexString(node)
                    + " is not an aligned 40-byte node inside the direct map of RAM");
        }
        return p;
    }

    private static String listName(int headOffset) {
        return headOffset == ROOT_VMAS ? "VMA" : "free-area";
    }

    /**
     * One walk along a list in guest RAM, bounded: the lists live where the guest can write,
     * a cycle would hang the host (the instruction budget does not stop Java code), and no
     * list can hold more nodes than RAM has room for.
     */
    private final class Walk {
        private final String list;
        private final long limit = ram.size() / NODE_SIZE;
        private long steps;

        Walk(String list) {
            this.list = list;
        }

        long next(long node) {
            if (++steps > limit) {
                throw new KernelPanic(String.format("the %s list loops: still going after %d nodes (RAM holds at most"
                        + " %d), at node V0x%x", list, steps, limit, node));
            }
            return VirtualAreas.this.next(node);
        }
    }

    private void phys(long node, int field, long value) {
        ram.write64(phys(node) + field, value);
    }

    private long start(long node) {
        return ram.read64(phys(node) + N_START);
    }

    private long end(long node) {
        return ram.read64(phys(node) + N_END);
    }

    private long next(long node) {
        return ram.read64(phys(node) + N_NEXT);
    }
}
