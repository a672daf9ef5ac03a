package dev.kemu.kernel.mm;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.util.Optional;

import static dev.kemu.kernel.mm.MmLayout.*;

/** Typed access to the mm root page in guest RAM (layout in {@link MmLayout}). */
public record MmRoot(GuestRam ram, long phys) {

    public void requireValid() {
        if (ram.read64(phys + ROOT_MAGIC) != MAGIC) {
            throw new KernelPanic(String.format("mm root at P0x%x has magic 0x%x, expected 0x%x (not initialised?)", phys,
                    ram.read64(phys + ROOT_MAGIC), MAGIC));
        }
    }

    long get(int offset) {
        return ram.read64(phys + offset);
    }

    void set(int offset, long value) {
        ram.write64(phys + offset, value);
    }

    int get32(int offset) {
        return ram.read32(phys + offset);
    }

    void set32(int offset, int value) {
        ram.write32(phys + offset, value);
    }

    public long ramBytes() {
        return get(ROOT_RAM);
    }

    public long frameTable() {
        return get(ROOT_FRAME_TABLE);
    }

    public long frameCount() {
        return get(ROOT_NR_FRAMES);
    }

    public long freeFrames() {
        return get(ROOT_FREE_FRAMES);
    }

    public long directMapBase() {
        return get(ROOT_HHDM);
    }

    public long pml4() {
        return get(ROOT_PML4);
    }

    public long cacheTable() {
        return get(ROOT_CACHE_TABLE);
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
    public long vmallocStart() {
        return get(ROOT_VMALLOC_START);
    }

    public long vmallocEnd() {
        return get(ROOT_VMALLOC_END);
    }

    /** Id of the internal cache of vm_area nodes. */
    public int vmAreaCache() {
        return get32(ROOT_VM_AREA_CACHE);
    }

    /** Direct-map address of the first node of the VMA list, 0 = empty. */
    public long vmaListHead() {
        return get(ROOT_VMAS);
    }

    public void setKmallocFirstCache(int id) {
        set32(ROOT_KMALLOC_FIRST, id);
    }

    public int freeHead(int order) {
        return get32(ROOT_FREE_HEAD + 4 * order);
    }

    public int freeCount(int order) {
        return get32(ROOT_FREE_COUNT + 4 * order);
    }

    /** Direct-map virtual address of a physical address. */
    public VirtAddr toVirtual(PhysAddr physical) {
        return VirtAddr.of(directMapBase() + physical.value());
    }

    /**
     * The physical address behind a direct-map address of RAM, or empty when {@code virtual}
     * is outside it: addresses that come from the guest may point anywhere.
     */
    public Optional<PhysAddr> physicalOf(VirtAddr virtual) {
        long offset = virtual.value() - directMapBase();
        return Long.compareUnsigned(offset, ramBytes()) < 0 ? Optional.of(PhysAddr.of(offset)) : Optional.empty();
    }

    /** {@link #physicalOf} for an address the caller knows is in the direct map of RAM. */
    public PhysAddr toPhysical(VirtAddr virtual) {
        return physicalOf(virtual).orElseThrow(() -> new IllegalArgumentException(String.format(
                "%s is not a direct-map address of RAM (the direct map is V0x%x..V0x%x); pass an address kmalloc,"
                        + " a slab or toVirtual returned", virtual, directMapBase(), directMapBase() + ramBytes())));
    }
}
