package dev.kemu.kernel.mm;

/** Outcome of an address-space service. Anything but {@link #OK} changed nothing, except where noted. */
public enum SpaceResult {
    OK("done"),
    NO_SUCH_SPACE("no address space has that PML4"),
    BAD_RANGE("the range is empty, not page-aligned, or reaches outside the user half (V0x1000..V0x7fffffffffff)"),
    BAD_FLAGS("the flags include bits other than W, U, NX, PWT and PCD (user pages cannot be global)"),
    OVERLAPS("the range overlaps a VMA of the space"),
    NOT_MAPPED("part of the range is in no VMA"),
    ACTIVE("the space is the one CR3 selects; switch CR3 away first"),
    OUT_OF_MEMORY("no frame or node left (unmap and protect may have split a VMA; nothing else changed)");

    private final String reason;

    SpaceResult(String reason) {
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}
