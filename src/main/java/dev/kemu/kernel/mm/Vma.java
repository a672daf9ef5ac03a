package dev.kemu.kernel.mm;

/**
 * A virtual memory area {@code [start, end)} as stored in guest RAM; {@code flags} are the
 * page-table flags its pages get (writable, user, no-execute).
 */
public record Vma(long start, long end, long flags, VmaKind kind) {
    public long size() {
        return end - start;
    }

    public boolean contains(long address) {
        return Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0;
    }

    @Override
    public String toString() {
        return String.format("V0x%016x-V0x%016x %-12s %s%s%s", start, end, kind.name().toLowerCase(),
                (flags & dev.kemu.machine.PageTableEntry.WRITABLE) != 0 ? "w" : "-",
                (flags & dev.kemu.machine.PageTableEntry.USER) != 0 ? "u" : "-",
                (flags & dev.kemu.machine.PageTableEntry.NO_EXECUTE) != 0 ? "-" : "x");
    }
}
