package dev.kemu.kernel.mm;

import dev.kemu.machine.PhysAddr;

import java.util.Optional;

import static dev.kemu.kernel.mm.MmLayout.*;

/**
 * The frames behind address spaces' VMAs. Each ANONYMOUS frame counts in its frame-table tag
 * the page-table entries that map it (a clone shares frames between spaces, copy-on-write
 * decides by the count whether a writer copies or takes the frame over); the count reaching 0
 * frees it. The zero page (Linux's ZERO_PAGE) is mapped read-only by read faults on untouched
 * pages; it is not counted and never freed.
 */
final class AnonymousPages {
    private final BuddyAllocator buddy;
    private final FrameTable frames;
    private final MmRoot root;

    AnonymousPages(BuddyAllocator buddy) {
        this.buddy = buddy;
        this.frames = buddy.frames();
        this.root = buddy.root();
    }

    /** A fresh frame mapped once; zeroed if asked (a copy fills it anyway). */
    Optional<PhysAddr> allocate(boolean zero) {
        Optional<PhysAddr> frame = buddy.allocate(0, FrameType.ANONYMOUS, zero);
        frame.ifPresent(f -> frames.setTag(f.value() / PAGE, 1));
        return frame;
    }

    /** One more entry maps {@code frame} (a clone). The zero page is not counted. */
    void share(PhysAddr frame) {
        if (!isZeroPage(frame)) {
            long pfn = requireAnonymous(frame);
            frames.setTag(pfn, frames.tag(pfn) + 1);
        }
    }

    /** One entry mapping {@code frame} went away; the last one frees it. */
    void release(PhysAddr frame) {
        if (isZeroPage(frame)) {
            return;
        }
        long pfn = requireAnonymous(frame);
        int count = frames.tag(pfn) - 1;
        if (count > 0) {
            frames.setTag(pfn, count);
            return;
        }
        frames.setTag(pfn, 0);
        FreeResult freed = buddy.free(frame, 0, FrameType.ANONYMOUS);
        if (freed != FreeResult.FREED) {
            throw new KernelPanic(String.format("anonymous frame %s could not be freed: %s", frame, freed.reason()));
        }
    }

    /** How many page-table entries map {@code frame}. */
    int references(PhysAddr frame) {
        return frames.tag(requireAnonymous(frame));
    }

    boolean isZeroPage(PhysAddr frame) {
        long zero = root.get(ROOT_ZERO_PAGE);
        return zero != 0 && frame.value() == zero;
    }

    /** The zero page, allocated on first use; empty when RAM is exhausted. */
    Optional<PhysAddr> zeroPage() {
        long zero = root.get(ROOT_ZERO_PAGE);
        if (zero != 0) {
            return Optional.of(PhysAddr.of(zero));
        }
        Optional<PhysAddr> fresh = buddy.allocate(0, FrameType.ZERO_PAGE, true);
        fresh.ifPresent(f -> root.set(ROOT_ZERO_PAGE, f.value()));
        return fresh;
    }

    private long requireAnonymous(PhysAddr frame) {
        long pfn = frame.value() / PAGE;
        if (frames.type(pfn) != FrameType.ANONYMOUS || frames.tag(pfn) <= 0) {
            throw new KernelPanic(String.format("a user page-table entry maps %s, typed %s with reference count %d;"
                    + " expected an anonymous frame that is referenced", frame, frames.type(pfn), frames.tag(pfn)));
        }
        return pfn;
    }
}
