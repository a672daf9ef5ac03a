package dev.kemu.kernel.mm;

/**
 * The outcome of freeing memory (or destroying a cache). Anything but {@link #FREED} changed
 * nothing. The constants name domain reasons only; the hypercall layer picks the errno.
 */
public enum FreeResult {
    FREED("freed"),
    NOT_PAGE_ALIGNED("the address is not page aligned"),
    OUTSIDE_RAM("the address is outside RAM"),
    DOUBLE_FREE("double free: the memory is already free"),
    NOT_ALLOCATED("the memory was never allocated"),
    NOT_BLOCK_START("the address is inside an allocation, not at its start"),
    WRONG_ORDER("the order does not match the allocation"),
    WRONG_TYPE("the memory belongs to another allocator"),
    WRONG_CACHE("the object belongs to another cache"),
    NOT_AN_OBJECT("the address is not the start of an object in its slab"),
    IN_USE("the cache still has live objects"),
    CORRUPTED("the object's red zone or padding was overwritten (see the slub debug report); not freed");

    private final String reason;

    FreeResult(String reason) {
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}
