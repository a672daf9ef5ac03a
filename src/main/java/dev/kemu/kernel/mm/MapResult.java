package dev.kemu.kernel.mm;

/** Outcome of a page-table edit. Anything but {@link #OK} changed nothing. The hypercall layer picks the errno. */
public enum MapResult {
    OK("done"),
    NOT_CANONICAL("the virtual address is not canonical"),
    MISALIGNED("an address is not aligned to the page size"),
    OUTSIDE_RAM("the physical address is outside RAM"),
    ALREADY_MAPPED("the virtual range is already mapped"),
    NOT_MAPPED("nothing is mapped there at that page size"),
    OUT_OF_MEMORY("no frame for a page table");

    private final String reason;

    MapResult(String reason) {
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}
