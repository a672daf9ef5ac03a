package dev.kemu.kernel.mm;

import dev.kemu.kernel.slab.SlabAllocator;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static dev.kemu.kernel.mm.VirtualAreas.*;

/**
 * The sorted VMA list of one address space: vm_area nodes (layout in {@link VirtualAreas}) from
 * the kernel's vm_area cache, chained from the space's descriptor. Kind is ANONYMOUS; the u32 at
 * +28, unused by kernel VMAs, holds the space's VMA flags ({@link #VM_COW}).
 */
final class SpaceVmas {
    /** Set by a clone on writable VMAs: their pages may be shared read-only until written. */
    static final int VM_COW = 1;
    static final int N_VM_FLAGS = 28;

    private final MmRoot root;
    private final GuestRam ram;
    private final SlabAllocator slabs;

    SpaceVmas(MmRoot root, SlabAllocator slabs) {
        this.root = root;
        this.ram = root.ram();
        this.slabs = slabs;
    }

    /** The VMAs of {@code space} in address order; panics with the facts when the list is broken. */
    List<SpaceVma> list(AddressSpace space) {
        List<SpaceVma> vmas = new ArrayList<>();
        long limit = ram.size() / NODE_SIZE;
        for (long node = space.vmaHead(); node != 0; node = next(node)) {
            if (vmas.size() > limit) {
                throw new KernelPanic(String.format("the VMA list of %s loops: still going after %d nodes", space, limit));
            }
            vmas.add(read(node));
        }
        return vmas;
    }

    Optional<SpaceVma> find(AddressSpace space, VirtAddr va) {
        return list(space).stream().filter(vma -> vma.contains(va)).findFirst();
    }

    boolean overlaps(AddressSpace space, long start, long end) {
        return list(space).stream().anyMatch(vma -> Long.compareUnsigned(vma.start().value(), end) < 0
                && Long.compareUnsigned(start, vma.end().value()) < 0);
    }

    /** Adds a VMA in address order; false when no node could be allocated. The caller checked overlaps. */
    boolean insert(AddressSpace space, long start, long end, long flags, boolean cow) {
        long node = slabs.allocate(root.vmAreaCache(), true).map(VirtAddr::value).orElse(0L);
        if (node == 0) {
            return false;
        }
        write(node, start, end, flags, cow);
        long prev = 0;
        for (long at = space.vmaHead(); at != 0 && Long.compareUnsigned(read(at).start().value(), start) < 0; at = next(at)) {
            prev = at;
        }
        long following = prev == 0 ? space.vmaHead() : next(prev);
        ram.write64(phys(node) + N_NEXT, following);
        if (prev == 0) {
            space.setVmaHead(node);
        } else {
            ram.write64(phys(prev) + N_NEXT, node);
        }
        return true;
    }

    /**
     * Splits the VMA that holds {@code at} strictly inside into {@code [start, at)} and
     * {@code [at, end)}; true when done or nothing to split, false when no node was left.
     */
    boolean splitAt(AddressSpace space, VirtAddr at) {
        for (SpaceVma vma : list(space)) {
            if (vma.contains(at) && !vma.start().equals(at)) {
                long node = vma.node().value();
                long tail = slabs.allocate(root.vmAreaCache(), true).map(VirtAddr::value).orElse(0L);
                if (tail == 0) {
                    return false;
                }
                write(tail, at.value(), vma.end().value(), vma.flags(), vma.copyOnWrite());
                ram.write64(phys(tail) + N_NEXT, next(node));
                ram.write64(phys(node) + N_END, at.value());
                ram.write64(phys(node) + N_NEXT, tail);
                return true;
            }
        }
        return true;
    }

    /** Unlinks and frees the node of {@code vma}. */
    void remove(AddressSpace space, SpaceVma vma) {
        long node = vma.node().value();
        long prev = 0;
        for (long at = space.vmaHead(); at != node; at = next(at)) {
            if (at == 0) {
                throw new KernelPanic(String.format("VMA node %s is not on the VMA list of %s", vma.node(), space));
            }
            prev = at;
        }
        if (prev == 0) {
            space.setVmaHead(next(node));
        } else {
            ram.write64(phys(prev) + N_NEXT, next(node));
        }
        FreeResult freed = slabs.free(root.vmAreaCache(), vma.node());
        if (freed != FreeResult.FREED) {
            throw new KernelPanic("vm_area node " + vma.node() + " could not be freed: " + freed.reason());
        }
    }

    void setFlags(SpaceVma vma, long flags) {
        ram.write64(phys(vma.node().value()) + N_FLAGS, flags);
    }

    void markCopyOnWrite(SpaceVma vma) {
        ram.write32(phys(vma.node().value()) + N_VM_FLAGS, VM_COW);
    }

    private void write(long node, long start, long end, long flags, boolean cow) {
        long p = phys(node);
        ram.write64(p + N_START, start);
        ram.write64(p + N_END, end);
        ram.write64(p + N_FLAGS, flags);
        ram.write32(p + N_KIND, VmaKind.ANONYMOUS.ordinal());
        ram.write32(p + N_VM_FLAGS, cow ? VM_COW : 0);
    }

    private SpaceVma read(long node) {
        long p = phys(node);
        long start = ram.read64(p + N_START), end = ram.read64(p + N_END);
        if (Long.compareUnsigned(start, end) >= 0 || Long.compareUnsigned(end, MmLayout.USER_END) > 0
                || ((start | end) & (MmLayout.PAGE - 1)) != 0 || ram.read32(p + N_KIND) != VmaKind.ANONYMOUS.ordinal()) {
            throw new KernelPanic(String.format("vm_area node V0x%x of an address space holds [V0x%x, V0x%x) kind %d,"
                    + " expected a page-aligned anonymous range in the user half", node, start, end, ram.read32(p + N_KIND)));
        }
        return new SpaceVma(VirtAddr.of(node), VirtAddr.of(start), VirtAddr.of(end), ram.read64(p + N_FLAGS),
                (ram.read32(p + N_VM_FLAGS) & VM_COW) != 0);
    }

    private long next(long node) {
        return ram.read64(phys(node) + N_NEXT);
    }

    private long phys(long node) {
        long p = root.physicalOf(VirtAddr.of(node)).map(PhysAddr::value).orElse(-1L);
        if (p < 0 || (p & 7) != 0 || p + NODE_SIZE > ram.size()) {
            throw new KernelPanic("vm_area node V0x" + Long.toHexString(node)
                    + " is not an aligned 40-byte node inside the direct map of RAM");
        }
        return p;
    }
}
