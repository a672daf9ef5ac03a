package dev.kemu.kernel.mm;

import dev.kemu.machine.PageFaultCode;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.util.Optional;
import java.util.function.Consumer;

import static dev.kemu.kernel.mm.MmLayout.PAGE;

/**
 * Demand-paged areas: reserved as VMAs without frames; the first touch of a page faults and
 * {@link #handleFault} maps a zeroed frame with the VMA's flags so the instruction can restart.
 *
 * <p>The fault handler runs inside the CPU's exception hook and reads VMAs and page tables the
 * guest can overwrite: a {@link KernelPanic} there goes to the corruption sink (the hypercall
 * services record it and stop the run) and the fault is {@link Outcome#METADATA_CORRUPTED},
 * so nothing escapes the machine's run.
 */
public final class DemandPaging {
    /** What the fault handler did with a page fault. */
    public enum Outcome {
        MAPPED, NOT_IN_ANY_VMA, GUARD_PAGE, NOT_DEMAND_PAGED, ALREADY_PRESENT, ACCESS_DENIED, OUT_OF_MEMORY,
        /** The VMAs or page tables the handler read were broken; the panic went to the corruption sink. */
        METADATA_CORRUPTED
    }

    private final BuddyAllocator buddy;
    private final PageTables tables;
    private final VirtualAreas areas;
    private final Consumer<KernelPanic> corruption;
    private AddressSpaces spaces;

    /** {@code corruption} receives a panic of the fault handler (see the class comment). */
    public DemandPaging(BuddyAllocator buddy, PageTables tables, VirtualAreas areas, Consumer<KernelPanic> corruption) {
        this.buddy = buddy;
        this.tables = tables;
        this.areas = areas;
        this.corruption = corruption;
    }

    /** Faults in the user half while CR3 selects one of {@code spaces} go to its copy-on-write handler. */
    void routeUserFaultsTo(AddressSpaces spaces) {
        this.spaces = spaces;
    }

    private static Outcome outcome(SpaceFault.Resolution resolution) {
        return switch (resolution) {
            case ZERO_FILLED, ZERO_PAGE_MAPPED, COPIED, REUSED -> Outcome.MAPPED;
            case NOT_IN_ANY_VMA -> Outcome.NOT_IN_ANY_VMA;
            case ACCESS_DENIED -> Outcome.ACCESS_DENIED;
            case ALREADY_PRESENT -> Outcome.ALREADY_PRESENT;
            case OUT_OF_MEMORY -> Outcome.OUT_OF_MEMORY;
        };
    }

    /** Reserves {@code size} bytes (rounded up to pages) mapped on demand with {@code flags}; empty when no room. */
    public Optional<VirtAddr> reserve(long size, long flags) {
        if (size <= 0 || size > (1L << 36) || (flags & ~PageTables.ALLOWED_FLAGS) != 0) {
            return Optional.empty();
        }
        return areas.allocate((size + PAGE - 1) & -PAGE, VmaKind.DEMAND_PAGED, flags);
    }

    /** Unmaps the pages that were touched, frees their frames and the area. */
    public FreeResult release(VirtAddr area) {
        long start = area.value();
        Optional<Vma> vma = areas.find(area);
        if (vma.isEmpty() || vma.get().kind() != VmaKind.DEMAND_PAGED) {
            return FreeResult.NOT_ALLOCATED;
        }
        if (!vma.get().start().equals(area)) {
            return FreeResult.NOT_BLOCK_START;
        }
        VirtAddr end = areas.requireSound(vma.get()).end();
        // Only the touched pages hold frames: skip the absent tables instead of visiting every page.
        for (VirtAddr page = tables.nextMaybeMapped(VirtAddr.of(start), end); !page.equals(end);
             page = tables.nextMaybeMapped(VirtAddr.of(page.value() + PAGE), end)) {
            tables.unmap(page, PageSize.SIZE_4K).ifPresent(frame -> {
                FreeResult freed = buddy.free(frame, 0, FrameType.DEMAND_PAGED);
                if (freed != FreeResult.FREED) {
                    throw new KernelPanic(String.format("demand-paged frame %s could not be freed: %s", frame,
                            freed.reason()));
                }
            });
        }
        areas.free(area);
        return FreeResult.FREED;
    }

    /**
     * Maps a zeroed frame for a not-present fault inside a demand-paged VMA whose flags allow the
     * access; {@code errorCode} is the #PF error code ({@link PageFaultCode} bits). Never throws.
     */
    public Outcome handleFault(VirtAddr faulting, int errorCode) {
        try {
            return resolve(faulting.value(), errorCode);
        } catch (KernelPanic panic) {
            corruption.accept(panic);
            return Outcome.METADATA_CORRUPTED;
        }
    }

    private Outcome resolve(long address, int errorCode) {
        if (spaces != null && Long.compareUnsigned(address, MmLayout.USER_END) < 0) {
            Optional<AddressSpace> active = spaces.active();
            if (active.isPresent()) {
                return outcome(spaces.handleFault(active.get(), VirtAddr.of(address), errorCode).resolution());
            }
        }
        Optional<Vma> found = areas.find(VirtAddr.of(address));
        if (found.isEmpty()) {
            return Outcome.NOT_IN_ANY_VMA;
        }
        Vma vma = found.get();
        if (vma.kind() == VmaKind.GUARD) {
            return Outcome.GUARD_PAGE;
        }
        if (vma.kind() != VmaKind.DEMAND_PAGED) {
            return Outcome.NOT_DEMAND_PAGED;
        }
        if ((errorCode & PageFaultCode.PRESENT) != 0) {
            return (errorCode & PageFaultCode.RESERVED) != 0 ? Outcome.ALREADY_PRESENT : Outcome.ACCESS_DENIED;
        }
        boolean write = (errorCode & PageFaultCode.WRITE) != 0;
        boolean user = (errorCode & PageFaultCode.USER) != 0;
        boolean fetch = (errorCode & PageFaultCode.FETCH) != 0;
        if ((write && (vma.flags() & PageTableEntry.WRITABLE) == 0) || (user && (vma.flags() & PageTableEntry.USER) == 0)
                || (fetch && (vma.flags() & PageTableEntry.NO_EXECUTE) != 0)) {
            return Outcome.ACCESS_DENIED;
        }
        Optional<PhysAddr> allocated = buddy.allocate(0, FrameType.DEMAND_PAGED, true);
        if (allocated.isEmpty()) {
            return Outcome.OUT_OF_MEMORY;
        }
        long frame = allocated.get().value();
        MapResult mapped = tables.map(VirtAddr.of(address & -PAGE), allocated.get(), PageSize.SIZE_4K, vma.flags());
        if (mapped != MapResult.OK) {
            buddy.free(allocated.get(), 0, FrameType.DEMAND_PAGED);
            return mapped == MapResult.ALREADY_MAPPED ? Outcome.ALREADY_PRESENT : Outcome.OUT_OF_MEMORY;
        }
        return Outcome.MAPPED;
    }
}
