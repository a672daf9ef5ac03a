package dev.kemu.kernel.mm;

/** What a 4 KiB physical frame is used for; stored as one byte in its frame-table entry. */
public enum FrameType {
    /** Not RAM, or RAM the firmware reserved: never allocated. */
    RESERVED,
    FREE,
    /** The kernel image, from its ELF. */
    KERNEL_IMAGE,
    /** Boot information and the firmware stub's frames. */
    BOOT,
    /** The memory manager's own metadata: root, frame table, cache table. */
    MM_METADATA,
    PAGE_TABLE,
    SLAB,
    /** Whole pages behind a large {@code kmalloc}. */
    HEAP,
    VMALLOC,
    /** Frames handed out by {@code frame_alloc} to guest code. */
    ALLOCATED,
    /** Frames mapped on first touch into a demand-paged VMA. */
    DEMAND_PAGED,
    /**
     * A private page of an address space's anonymous VMA; its tag counts the page-table entries
     * (in every space) that map it, so copy-on-write knows when a writer may take it over.
     */
    ANONYMOUS,
    /** The one zero page that read faults on untouched anonymous pages map (Linux's ZERO_PAGE); never freed. */
    ZERO_PAGE;

    private static final FrameType[] ALL = values();

    public static FrameType of(int code) {
        if (code < 0 || code >= ALL.length) {
            throw new KernelPanic("frame table holds unknown frame type " + code);
        }
        return ALL[code];
    }

    public String label() {
        return name().toLowerCase().replace('_', ' ');
    }
}
