package dev.kemu.kernel.mm;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;

import java.util.Optional;

import static dev.kemu.kernel.mm.MmLayout.*;

/**
 * Buddy allocator of physical frames. Free blocks of {@code 2^order} frames sit in one
 * doubly linked list per NUMA node, zone and order ({@link FreeLists}), threaded through their
 * frame-table entries; the heads and counts live in the mm root. All state is in guest RAM.
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
     * Allocates {@code 2^order} contiguous frames for {@code type}, zeroed if asked, from any node and zone:
     * the smallest sufficient order first, nodes in number order, zones from NORMAL down.
     * Returns the block's physical address, or empty when no block is large enough.
     */
    public Optional<PhysAddr> allocate(int order, FrameType type, boolean zero) {
        long block = allocateBlock(order, type, zero);
        return block < 0 ? Optional.empty() : Optional.of(PhysAddr.of(block));
    }

    /** {@link #allocate} as a raw physical address, -1 when empty: kmalloc's large requests, nothing boxed. */
    public long allocateBlock(int order, FrameType type, boolean zero) {
        checkRequest(order, type);
        int nodes = root.nodes().count();
        for (int found = order; found <= MAX_ORDER; found++) {
            for (int node = 0; node < nodes; node++) {
                for (int z = Zone.ALL.length - 1; z >= 0; z--) {
                    int list = FreeLists.index(node, Zone.ALL[z], found);
                    int head = root.freeHead(list); // read once: take() unlinks exactly the block this names
                    if (head != NONE) {
                        return take(list, Integer.toUnsignedLong(head), order, type, zero);
                    }
                }
            }
        }
        return -1;
    }

    /**
     * {@link #allocate} from one node's zone only (Linux's {@code rmqueue} on one {@code struct zone}): the
     * smallest sufficient order of that node and zone, split down to {@code order}. Buddy blocks are naturally
     * aligned and at most 4 MiB, so none straddles the 16 MiB or 4 GiB zone bounds, and merges stop at node
     * bounds, so every free block lies in one node and one zone.
     */
    public Optional<PhysAddr> allocateFrom(int node, Zone zone, int order, FrameType type, boolean zero) {
        checkRequest(order, type);
        if (node < 0 || node >= root.nodes().count()) {
            throw new IllegalArgumentException("node must be 0.." + (root.nodes().count() - 1) + ", got " + node);
        }
        for (int found = order; found <= MAX_ORDER; found++) {
            int list = FreeLists.index(node, zone, found);
            if (root.freeHead(list) != NONE) {
                return Optional.of(PhysAddr.of(take(list, Integer.toUnsignedLong(root.freeHead(list)), order, type, zero)));
            }
        }
        return Optional.empty();
    }

    private static void checkRequest(int order, FrameType type) {
        if (order < 0 || order > MAX_ORDER) {
            throw new IllegalArgumentException("order must be 0.." + MAX_ORDER + ", got " + order);
        }
        if (type == FrameType.FREE || type == FrameType.RESERVED) {
            throw new IllegalArgumentException("cannot allocate frames as " + type);
        }
    }

    /** Unlinks the free block {@code pfn} from {@code list}, splits it down to {@code order}; returns its address. */
    private long take(int list, long pfn, int order, FrameType type, boolean zero) {
        int found = FreeLists.order(list);
        unlink(list, pfn);
        while (found > order) {
            found--;
            long buddy = pfn + (1L << found);
            frames.setHead(buddy, found, FrameType.FREE); // its tails are FREE already
            push(list - FreeLists.order(list) + found, buddy);
        }
        frames.markBlock(pfn, order, type);
        root.set(ROOT_FREE_FRAMES, root.freeFrames() - (1L << order));
        long phys = pfn * PAGE;
        if (zero) {
            ram.fill(phys, PAGE << order, (byte) 0);
        }
        return phys;
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
        return freeBlock(block.value(), expected);
    }

    /** {@link #free(PhysAddr, FrameType)} of a raw physical address: kfree's path, nothing boxed. */
    public FreeResult freeBlock(long phys, FrameType expected) {
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
        NumaNodes nodes = root.nodes();
        int node = nodes.nodeOf(pfn);
        while (order < MAX_ORDER) {
            long buddy = pfn ^ (1L << order);
            if (buddy + (1L << order) > frames.frames() || frames.type(buddy) != FrameType.FREE
                    || !frames.isHead(buddy) || frames.order(buddy) != order || nodes.nodeOf(buddy) != node) {
                break;
            }
            unlink(listOf(buddy, order), buddy);
            long head = Math.min(pfn, buddy);
            frames.setTail(Math.max(pfn, buddy), head);
            pfn = head;
            order++;
        }
        frames.setHead(pfn, order, FrameType.FREE);
        push(listOf(pfn, order), pfn);
    }

    /** The free list a free block of {@code 2^order} frames at {@code pfn} belongs on. */
    int listOf(long pfn, int order) {
        return FreeLists.index(root.nodes().nodeOf(pfn), Zone.of(PhysAddr.of(pfn * PAGE)), order);
    }

    /** Adds a FREE-marked block to the front of free list {@code list} ({@link FreeLists#index}). */
    void push(int list, long pfn) {
        int head = root.freeHead(list);
        frames.setNext(pfn, head);
        frames.setPrev(pfn, NONE);
        if (head != NONE) {
            frames.setPrev(Integer.toUnsignedLong(head), (int) pfn);
        }
        root.set32(ROOT_FREE_HEAD + 4 * list, (int) pfn);
        root.set32(ROOT_FREE_COUNT + 4 * list, root.freeCount(list) + 1);
    }

    private void unlink(int list, long pfn) {
        int next = frames.next(pfn);
        int prev = frames.prev(pfn);
        if (prev == NONE) {
            if (root.freeHead(list) != (int) pfn) {
                throw new KernelPanic(String.format("free list %s: frame 0x%x has no predecessor but the head is 0x%x",
                        FreeLists.name(list), pfn, root.freeHead(list)));
            }
            root.set32(ROOT_FREE_HEAD + 4 * list, next);
        } else {
            frames.setNext(Integer.toUnsignedLong(prev), next);
        }
        if (next != NONE) {
            frames.setPrev(Integer.toUnsignedLong(next), prev);
        }
        root.set32(ROOT_FREE_COUNT + 4 * list, root.freeCount(list) - 1);
    }
}
