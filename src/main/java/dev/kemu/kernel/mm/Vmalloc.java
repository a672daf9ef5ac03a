package dev.kemu.kernel.mm;

import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.util.Optional;

import static dev.kemu.kernel.mm.MmLayout.PAGE;

/**
 * vmalloc / vfree: virtually contiguous memory from scattered frames, each allocation
 * followed by an unmapped guard page (its own GUARD VMA) that turns an overrun into a fault.
 */
public final class Vmalloc {
    static final long PAGE_FLAGS = PageTableEntry.WRITABLE | PageTableEntry.NO_EXECUTE | PageTableEntry.GLOBAL;

    private final BuddyAllocator buddy;
    private final PageTables tables;
    private final VirtualAreas areas;

    public Vmalloc(BuddyAllocator buddy, PageTables tables, VirtualAreas areas) {
        this.buddy = buddy;
        this.tables = tables;
        this.areas = areas;
    }

    /** Returns the start of {@code size} bytes (rounded up to pages), zeroed, or empty when out of memory. */
    public Optional<VirtAddr> allocate(long size) {
        if (size <= 0 || size > (1L << 40)) {
            return Optional.empty();
        }
        long pages = (size + PAGE - 1) / PAGE;
        Optional<VirtAddr> area = areas.allocate((pages + 1) * PAGE, VmaKind.VMALLOC, PAGE_FLAGS);
        if (area.isEmpty()) {
            return Optional.empty();
        }
        long start = area.get().value();
        if (!areas.split(area.get(), area.get().plus(pages * PAGE), VmaKind.GUARD)) {
            areas.free(area.get());
            return Optional.empty();
        }
        for (long i = 0; i < pages; i++) {
            Optional<PhysAddr> frame = buddy.allocate(0, FrameType.VMALLOC, true);
            if (frame.isEmpty()
                    || tables.map(area.get().plus(i * PAGE), frame.get(), PageSize.SIZE_4K, PAGE_FLAGS) != MapResult.OK) {
                frame.ifPresent(f -> buddy.free(f, 0, FrameType.VMALLOC));
                release(start, i, start + pages * PAGE);
                return Optional.empty();
            }
        }
        return area;
    }

    /** Unmaps and frees the area that starts at {@code start}, and its guard page. */
    public FreeResult free(VirtAddr start) {
        long address = start.value();
        Optional<Vma> found = areas.find(start);
        if (found.isEmpty() || found.get().kind() != VmaKind.VMALLOC) {
            return found.isPresent() && found.get().kind() == VmaKind.GUARD ? FreeResult.NOT_BLOCK_START
                    : FreeResult.NOT_ALLOCATED;
        }
        Vma vma = areas.requireSound(found.get());
        if (!vma.start().equals(start)) {
            return FreeResult.NOT_BLOCK_START;
        }
        release(address, vma.size() / PAGE, vma.end().value());
        return FreeResult.FREED;
    }

    private void release(long start, long mappedPages, long guard) {
        for (long i = 0; i < mappedPages; i++) {
            long page = start + i * PAGE;
            PhysAddr frame = tables.unmap(VirtAddr.of(page), PageSize.SIZE_4K).orElseThrow(() -> new KernelPanic(
                    String.format("vmalloc page V0x%x of the area at V0x%x is not mapped", page, start)));
            FreeResult result = buddy.free(frame, 0, FrameType.VMALLOC);
            if (result != FreeResult.FREED) {
                throw new KernelPanic(String.format("vmalloc frame %s could not be freed: %s", frame,
                        result.reason()));
            }
        }
        areas.free(VirtAddr.of(guard));
        areas.free(VirtAddr.of(start));
    }
}
