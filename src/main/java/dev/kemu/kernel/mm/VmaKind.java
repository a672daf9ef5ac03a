package dev.kemu.kernel.mm;

/** What a virtual memory area holds. Stored as a u32 in the vm_area node. */
public enum VmaKind {
    /** A free range (only on the free-area list). */
    FREE,
    /** Mapped up front by its owner. */
    ANONYMOUS,
    /** Reserved; frames are mapped on first touch by the page-fault handler. */
    DEMAND_PAGED,
    /** Never mapped: a touch is a fault (catches overruns). */
    GUARD,
    /** Backing of a vmalloc allocation. */
    VMALLOC;

    public static VmaKind of(int code) {
        VmaKind[] all = values();
        if (code < 0 || code >= all.length) {
            throw new KernelPanic("vm_area holds unknown kind " + code);
        }
        return all[code];
    }
}
