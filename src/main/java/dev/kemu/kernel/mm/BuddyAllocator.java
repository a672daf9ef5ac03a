package dev.kemu.kernel.mm;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;

import java.util.Optional;

import static dev.kemu.kernel.mm.MmLayout.*;

/**
 * Buddy allocator of physical frames. Free blocks of {@code 2^order} frames sit in one
 * doubly linked list per order, threaded through their frame-table entries; the heads and
 * counts live in the mm root. All state is in guest RAM.
 */
public final class BuddyAllocator {
    private final GuestRam ram;
    private final MmRoot root;
    private final FrameTable frames;

    public BuddyAllocator(MmRoot root) {
        this.ram = root.ram();
        this.root = root;
        this.frames = FrameTable.of(root);
    }

    public MmRoot root() {
        return root;
    }

    public FrameTable frames() {
        return frames;
    }

    /**
     * Allocates {@code 2^order} contiguous frames for {@code type}, zeroed if asked.
     * Returns the block's physical address, or empty when no block is large enough.
     */
    public Optional<PhysAddr> allocate(int order, FrameType type, boolean zero) {
        if (order < 0 || order > MAX_ORDER) {
            throw new IllegalArgumentException("order must be 0.." + MAX_ORDER + ", got " + order);
        }
        if (type == FrameType.FREE || type == FrameType.RESERVED) {
            throw new IllegalArgumentException("cannot allocate frames as " + type);
        }
        int found = order;
        while (found <= MAX_ORDER && root.freeHead(found) == NONE) {
            found++;
        }
        if (found > MAX_ORDER) {
            return Optional.empty();
        }
        return Optional.of(take(found, Integer.toUnsignedLong(root.freeHead(found)), order, type, zero));
    }

    /**
     * {@link #allocate} restricted to frames {@code [lowPfn, highPfn)} (a zone): the first free block
     * of the smallest sufficient order that lies inside, split down to {@code order}. Buddy blocks
     * are naturally aligned and at most 4 MiB, so none straddles the 16 MiB or 4 GiB zone bounds.
     */
    public Optional<PhysAddr> allocateWithin(int order, FrameType type, boolean zero, long lowPfn, long highPfn) {
        if (order < 0 || order > MAX_ORDER) {
            throw new IllegalArgumentException("order must be 0.." + MAX_ORDER + ", got " + order);
        }
        if (type == FrameType.FREE || type == FrameType.RESERVED) {
            throw new IllegalArgumentException("cannot allocate frames as " + type);
        }
        for (int found = order; found <= MAX_ORDER; found++) {
            int left = root.freeCount(found);
            for (int at = root.freeHead(found); at != NONE; at = frames.next(Integer.toUnsignedLong(at))) {
                if (left-- <= 0) {
                    throw new KernelPanic(String.format("free list %d holds more blocks than it counts (%d)", found,
                            root.freeCount(found)));
                }
                long pfn = Integer.toUnsignedLong(at);
                if (pfn >= lowPfn && pfn + (1L << found) <= highPfn) {
                    return Optional.of(take(found, pfn, order, type, zero));
                }
            }
        }
        return Optional.empty();
    }

    /** Unlinks the free block {@code pfn} of order {@code found} and splits it down to {@code order}. */
    private PhysAddr take(int found, long pfn, int order, FrameType type, boolean zero) {
        unlink(found, pfn);
        while (found > order) {
            found--;
            long buddy = pfn + (1L << found);
            frames.setHead(buddy, found, FrameType.FREE); // its tails are FREE already
            push(found, buddy);
        }
        frames.markBlock(pfn, order, type);
        root.set(ROOT_FREE_FRAMES, root.freeFrames() - (1L << order));
        long phys = pfn * PAGE;
        if (zero) {
            ram.fill(phys, PAGE << order, (byte) 0);
        }
        return PhysAddr.of(phys);
    }

    /** Frees a block of {@code 2^order} frames that was allocated as {@code expected}. */
    public FreeResult free(PhysAddr block, int order, FrameType expected) {
        long phys = block.value();
        FreeResult check = checkFree(phys, expected);
        if (check != FreeResult.FREED) {
            return check;
        }
        long pfn = phys / PAGE;
        if (frames.order(pfn) != order) {
            return FreeResult.WRONG_ORDER;
        }
        release(pfn, order);
        return FreeResult.FREED;
    }

    /** Frees the whole block starting at {@code phys}, whatever its order. */
    public FreeResult free(PhysAddr block, FrameType expected) {
        long phys = block.value();
        FreeResult check = checkFree(phys, expected);
        if (check == FreeResult.FREED) {
            long pfn = phys / PAGE;
            release(pfn, frames.order(pfn));
        }
        return check;
    }

    /** Order of the allocated block at {@code phys} (which must be a block start). */
    public int orderAt(PhysAddr block) {
        return frames.order(block.value() / PAGE);
    }

    private FreeResult checkFree(long phys, FrameType expected) {
        if ((phys & (PAGE - 1)) != 0) {
            return FreeResult.NOT_PAGE_ALIGNED;
        }
        if (phys < 0 || phys / PAGE >= frames.frames()) {
            return FreeResult.OUTSIDE_RAM;
        }
        long pfn = phys / PAGE;
        FrameType type = frames.type(pfn);
        if (type == FrameType.FREE) {
            return FreeResult.DOUBLE_FREE;
        }
        if (type == FrameType.RESERVED || type == FrameType.KERNEL_IMAGE || type == FrameType.BOOT
                || type == FrameType.MM_METADATA) {
            return FreeResult.NOT_ALLOCATED;
        }
        if (type != expected) {
            return FreeResult.WRONG_TYPE;
        }
        if (!frames.isHead(pfn)) {
            return FreeResult.NOT_BLOCK_START;
        }
        return FreeResult.FREED;
    }

    private void release(long pfn, int order) {
        root.set(ROOT_FREE_FRAMES, root.freeFrames() + (1L << order));
        frames.markBlock(pfn, order, FrameType.FREE); // only the freed frames are rewritten
        while (order < MAX_ORDER) {
            long buddy = pfn ^ (1L << order);
            if (buddy + (1L << order) > frames.frames() || frames.type(buddy) != FrameType.FREE
                    || !frames.isHead(buddy) || frames.order(buddy) != order) {
                break;
            }
            unlink(order, buddy);
            long head = Math.min(pfn, buddy);
            frames.setTail(Math.max(pfn, buddy), head);
            pfn = head;
            order++;
        }
        frames.setHead(pfn, order, FrameType.FREE);
        push(order, pfn);
    }

    /** Adds a FREE-marked block to the front of its list. */
    void push(int order, long pfn) {
        int head = root.freeHead(order);
        frames.setNext(pfn, head);
        frames.setPrev(pfn, NONE);
        if (head != NONE) {
            frames.setPrev(Integer.toUnsignedLong(head), (int) pfn);
        }
        root.set32(ROOT_FREE_HEAD + 4 * order, (int) pfn);
        root.set32(ROOT_FREE_COUNT + 4 * order, root.freeCount(order) + 1);
    }

    private void unlink(int order, long pfn) {
        int next = frames.next(pfn);
        int prev = frames.prev(pfn);
        if (prev == NONE) {
            if (root.freeHead(order) != (int) pfn) {
                throw new KernelPanic(String.format("free list %d: frame 0x%x has no predecessor but the head is 0x%x",
                        order, pfn, root.freeHead(order)));
            }
            root.set32(ROOT_FREE_HEAD + 4 * order, next);
        } else {
            frames.setNext(Integer.toUnsignedLong(prev), next);
        }
        if (next != NONE) {
            frames.setPrev(Integer.toUnsignedLong(next), prev);
        }
        root.set32(ROOT_FREE_COUNT + 4 * order, root.freeCount(order) - 1);
    }
}
