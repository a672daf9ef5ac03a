package dev.kemu.kernel.mm;

import dev.kemu.kernel.GuestAbi;

/** Outcome of a page-table edit. Anything but {@link #OK} changed nothing. */
public enum MapResult {
    OK(0, "done"),
    NOT_CANONICAL(GuestAbi.EINVAL, "the virtual address is not canonical"),
    MISALIGNED(GuestAbi.EINVAL, "an address is not aligned to the page size"),
    OUTSIDE_RAM(GuestAbi.EINVAL, "the physical address is outside RAM"),
    ALREADY_MAPPED(GuestAbi.EEXIST, "the virtual range is already mapped"),
    NOT_MAPPED(GuestAbi.EFAULT, "nothing is mapped there at that page size"),
    OUT_OF_MEMORY(GuestAbi.ENOMEM, "no frame for a page table");

    private final long errno;
    private final String reason;

    MapResult(long errno, String reason) {
        this.errno = errno;
        this.reason = reason;
    }

    public long errno() {
        return errno;
    }

    public String reason() {
        return reason;
    }
}
