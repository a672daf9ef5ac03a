package dev.kemu.kernel.mm;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.util.Optional;

import static dev.kemu.kernel.mm.MmLayout.*;

/**
 * Typed access to the mm root page at {@code phys} in guest RAM (layout in {@link MmLayout}).
 * The addresses it returns are what the guest-visible root holds: the kernel reads them back
 * from guest memory, so a checker must still test them before following one.
 */
public record MmRoot(GuestRam ram, PhysAddr phys) {

    public void requireValid() {
        if (get(ROOT_MAGIC) != MAGIC) {
            throw new KernelPanic(String.format("mm root at %s has magic 0x%x, expected 0x%x (not initialised?)", phys,
                    get(ROOT_MAGIC), MAGIC));
        }
    }

    long get(int offset) {
        return ram.read64(phys.value() + offset);
    }

    void set(int offset, long value) {
        ram.write64(phys.value() + offset, value);
    }

    int get32(int offset) {
        return ram.read32(phys.value() + offset);
    }

    void set32(int offset, int value) {
        ram.write32(phys.value() + offset, value);
    }

    public long ramBytes() {
        return get(ROOT_RAM);
    }

    public PhysAddr frameTable() {
        return PhysAddr.of(get(ROOT_FRAME_TABLE));
    }

    public long frameCount() {
        return get(ROOT_NR_FRAMES);
    }

    public long freeFrames() {
        return get(ROOT_FREE_FRAMES);
    }

    public VirtAddr directMapBase() {
        return VirtAddr.of(get(ROOT_HHDM));
    }

    public PhysAddr pml4() {
        return PhysAddr.of(get(ROOT_PML4));
    }

    public PhysAddr cacheTable() {
        return PhysAddr.of(get(ROOT_CACHE_TABLE));
    }

    public int cacheCapacity() {
        return get32(ROOT_CACHE_CAPACITY);
    }

    public int emptySlabLimit() {
        return get32(ROOT_EMPTY_SLAB_LIMIT);
    }

    public int kmallocFirstCache() {
        return get32(ROOT_KMALLOC_FIRST);
    }

    /** The range vmalloc and the VMAs own: {@code [vmallocStart, vmallocEnd)}. */
    public VirtAddr vmallocStart() {
        return VirtAddr.of(get(ROOT_VMALLOC_START));
    }

    public VirtAddr vmallocEnd() {
        return VirtAddr.of(get(ROOT_VMALLOC_END));
    }

    /** Id of the internal cache of vm_area nodes. */
    public int vmAreaCache() {
        return get32(ROOT_VM_AREA_CACHE);
    }

    /** Direct-map address of the first node of the VMA list, {@code V0x0} = empty. */
    public VirtAddr vmaListHead() {
        return VirtAddr.of(get(ROOT_VMAS));
    }

    public void setKmallocFirstCache(int id) {
        set32(ROOT_KMALLOC_FIRST, id);
    }

    /** Head of free list {@code list} ({@link FreeLists#index}). */
    public int freeHead(int list) {
        return get32(ROOT_FREE_HEAD + 4 * list);
    }

    /** Blocks on free list {@code list} ({@link FreeLists#index}). */
    public int freeCount(int list) {
        return get32(ROOT_FREE_COUNT + 4 * list);
    }

    /** The NUMA nodes and which CPU is in which. */
    public NumaNodes nodes() {
        return new NumaNodes(this);
    }

    /** Direct-map virtual address of a physical address. */
    public VirtAddr toVirtual(PhysAddr physical) {
        return VirtAddr.of(get(ROOT_HHDM) + physical.value());
    }

    /**
     * The physical address behind a direct-map address of RAM, or empty when {@code virtual}
     * is outside it: addresses that come from the guest may point anywhere.
     */
    public Optional<PhysAddr> physicalOf(VirtAddr virtual) {
        long offset = virtual.value() - get(ROOT_HHDM);
        return Long.compareUnsigned(offset, ramBytes()) < 0 ? Optional.of(PhysAddr.of(offset)) : Optional.empty();
    }

    /** {@link #physicalOf} for an address the caller knows is in the direct map of RAM. */
    public PhysAddr toPhysical(VirtAddr virtual) {
        return physicalOf(virtual).orElseThrow(() -> new IllegalArgumentException(String.format(
                "%s is not a direct-map address of RAM (the direct map is V0x%x..V0x%x); pass an address kmalloc,"
                        + " a slab or toVirtual returned", virtual, get(ROOT_HHDM), get(ROOT_HHDM) + ramBytes())));
    }
}
