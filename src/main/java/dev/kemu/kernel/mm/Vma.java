package dev.kemu.kernel.mm;

import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.VirtAddr;

/**
 * A virtual memory area {@code [start, end)} as stored in guest RAM; {@code flags} are the
 * page-table flags its pages get (writable, user, no-execute).
 */
public record Vma(VirtAddr start, VirtAddr end, long flags, VmaKind kind) {
    /** A VMA from the raw fields of a vm_area node. */
    static Vma of(long start, long end, long flags, VmaKind kind) {
        return new Vma(VirtAddr.of(start), VirtAddr.of(end), flags, kind);
    }

    public long size() {
        return end.value() - start.value();
    }

    public boolean contains(VirtAddr address) {
        return address.compareTo(start) >= 0 && address.compareTo(end) < 0;
    }

    @Override
    public String toString() {
        return String.format("V0x%016x-V0x%016x %-12s %s%s%s", start.value(), end.value(), kind.name().toLowerCase(),
                (flags & PageTableEntry.WRITABLE) != 0 ? "w" : "-",
                (flags & PageTableEntry.USER) != 0 ? "u" : "-",
                (flags & PageTableEntry.NO_EXECUTE) != 0 ? "-" : "x");
    }
}
