package dev.kemu.kernel.mm;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;

import static dev.kemu.kernel.mm.MmLayout.*;

/** The per-frame entries in guest RAM (layout in {@link MmLayout}), addressed by frame number. */
public record FrameTable(GuestRam ram, PhysAddr base, long frames) {

    public static FrameTable of(MmRoot root) {
        return new FrameTable(root.ram(), root.frameTable(), root.frameCount());
    }

    long entry(long pfn) {
        if (pfn < 0 || pfn >= frames) {
            throw new KernelPanic(String.format("frame number 0x%x outside the frame table (0x%x frames)", pfn, frames));
        }
        return base.value() + pfn * FRAME_ENTRY;
    }

    public FrameType type(long pfn) {
        return FrameType.of(ram.read8(entry(pfn) + FE_TYPE));
    }

    public int order(long pfn) {
        return ram.read8(entry(pfn) + FE_ORDER);
    }

    public boolean isHead(long pfn) {
        return (ram.read8(entry(pfn) + FE_FLAGS) & FLAG_HEAD) != 0;
    }

    public int tag(long pfn) {
        return ram.read32(entry(pfn) + FE_TAG);
    }

    int next(long pfn) {
        return ram.read32(entry(pfn) + FE_NEXT);
    }

    int prev(long pfn) {
        return ram.read32(entry(pfn) + FE_PREV);
    }

    void setNext(long pfn, int next) {
        ram.write32(entry(pfn) + FE_NEXT, next);
    }

    void setPrev(long pfn, int prev) {
        ram.write32(entry(pfn) + FE_PREV, prev);
    }

    public void setTag(long pfn, int tag) {
        ram.write32(entry(pfn) + FE_TAG, tag);
    }

    void setType(long pfn, FrameType type) {
        ram.write8(entry(pfn) + FE_TYPE, type.ordinal());
    }

    /**
     * Marks {@code 2^order} frames from {@code head} as one block of {@code type}: the head
     * carries the order and the head flag, every tail names its head in the tag.
     */
    void markBlock(long head, int order, FrameType type) {
        setHead(head, order, type);
        setNext(head, NONE);
        setPrev(head, NONE);
        for (long pfn = head + 1; pfn < head + (1L << order); pfn++) {
            long t = entry(pfn);
            ram.write8(t + FE_TYPE, type.ordinal());
            ram.write8(t + FE_ORDER, 0);
            ram.write8(t + FE_FLAGS, 0);
            ram.write32(t + FE_TAG, (int) head);
            ram.write32(t + FE_NEXT, NONE);
            ram.write32(t + FE_PREV, NONE);
        }
    }

    /**
     * Makes {@code pfn} the head of a block of {@code 2^order} frames without touching its
     * tails: used when the buddy allocator splits or merges free blocks, whose tails are FREE
     * already.
     */
    void setHead(long pfn, int order, FrameType type) {
        long e = entry(pfn);
        ram.write8(e + FE_TYPE, type.ordinal());
        ram.write8(e + FE_ORDER, order);
        ram.write8(e + FE_FLAGS, FLAG_HEAD);
        ram.write32(e + FE_TAG, 0);
    }

    /** Turns a former head into a tail of the block headed by {@code head} (a buddy merge). */
    void setTail(long pfn, long head) {
        long e = entry(pfn);
        ram.write8(e + FE_ORDER, 0);
        ram.write8(e + FE_FLAGS, 0);
        ram.write32(e + FE_TAG, (int) head);
    }

    /**
     * The head frame of the allocated block containing {@code pfn}. Tails of free blocks carry
     * stale tags (splits and merges of free blocks rewrite only heads), so this is meaningless
     * for FREE frames, whose type alone says what they are.
     */
    public long headOf(long pfn) {
        if (isHead(pfn)) {
            return pfn;
        }
        long head = Integer.toUnsignedLong(tag(pfn));
        if (head >= frames || head > pfn) {
            throw new KernelPanic(String.format("frame 0x%x is a tail whose tag names head 0x%x, expected a frame below"
                    + " it inside the table (0x%x frames)", pfn, head, frames));
        }
        return head;
    }

    /** The raw type byte, for checkers that must report an unknown type instead of stopping on it. */
    public int typeCode(long pfn) {
        return ram.read8(entry(pfn) + FE_TYPE);
    }

    /** Pinned page tables are never freed by {@link PageTables#unmap} (see {@link MmLayout#FLAG_PINNED}). */
    public boolean isPinned(long pfn) {
        return (ram.read8(entry(pfn) + FE_FLAGS) & FLAG_PINNED) != 0;
    }

    /**
     * Objects of a guest-constructor cache's slab (headed by {@code pfn}) that met the constructor:
     * the free-list link field, unused while a block is allocated (as Linux overlays slab fields on
     * struct page's lru links).
     */
    public int slabConstructed(long pfn) {
        return ram.read32(entry(pfn) + FE_NEXT);
    }

    public void setSlabConstructed(long pfn, int objects) {
        ram.write32(entry(pfn) + FE_NEXT, objects);
    }

    void pin(long pfn) {
        long e = entry(pfn);
        ram.write8(e + FE_FLAGS, ram.read8(e + FE_FLAGS) | FLAG_PINNED);
    }
}
