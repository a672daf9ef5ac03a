package dev.kemu.kernel.mm;

import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

/**
 * One address space as its descriptor in guest RAM says (an object of the "mm_space" slab cache,
 * chained from the mm root at +120):
 *
 * <pre>
 * mm_space (32 bytes)
 *   +0   u64  PML4 physical address (what the guest writes to CR3; also the space's handle)
 *   +8   u64  VMA list head: direct-map va of the first vm_area node, 0 = none (sorted by start)
 *   +16  u64  next space: direct-map va of its descriptor, 0 = end of the list
 *   +24  u32  id (creation serial, for reports)   +28 u32 reserved (0)
 * </pre>
 *
 * A value, not an owner: it names the descriptor at {@code descriptor}, and every read goes to
 * guest RAM.
 */
public record AddressSpace(MmRoot root, VirtAddr descriptor) {
    public static final int SIZE = 32;
    static final int S_PML4 = 0, S_VMAS = 8, S_NEXT = 16, S_ID = 24;

    public PhysAddr pml4() {
        return PhysAddr.of(root.ram().read64(phys() + S_PML4));
    }

    public int id() {
        return root.ram().read32(phys() + S_ID);
    }

    long vmaHead() {
        return root.ram().read64(phys() + S_VMAS);
    }

    void setVmaHead(long node) {
        root.ram().write64(phys() + S_VMAS, node);
    }

    long next() {
        return root.ram().read64(phys() + S_NEXT);
    }

    void setNext(long next) {
        root.ram().write64(phys() + S_NEXT, next);
    }

    void initialize(PhysAddr pml4, int id) {
        long p = phys();
        root.ram().fill(p, SIZE, (byte) 0);
        root.ram().write64(p + S_PML4, pml4.value());
        root.ram().write32(p + S_ID, id);
    }

    long phys() {
        long p = root.physicalOf(descriptor).map(PhysAddr::value).orElse(-1L);
        if (p < 0 || (p & 7) != 0 || p + SIZE > root.ram().size()) {
            throw new KernelPanic(String.format("mm_space descriptor %s is not an aligned %d-byte object inside the"
                    + " direct map of RAM", descriptor, SIZE));
        }
        return p;
    }

    @Override
    public String toString() {
        return "space " + id() + " (PML4 " + pml4() + ")";
    }
}
