package dev.kemu.kernel.mm;

import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.VirtAddr;

/**
 * A VMA of an address space: anonymous, private, demand-paged memory {@code [start, end)} whose
 * pages get {@code flags}. {@code copyOnWrite} is the mark a clone leaves: pages of this VMA may
 * be shared read-only with another space until the first write copies them. {@code node} is the
 * vm_area node holding it.
 */
public record SpaceVma(VirtAddr node, VirtAddr start, VirtAddr end, long flags, boolean copyOnWrite) {
    public boolean contains(VirtAddr address) {
        return address.compareTo(start) >= 0 && address.compareTo(end) < 0;
    }

    public boolean writable() {
        return (flags & PageTableEntry.WRITABLE) != 0;
    }

    public long pages() {
        return (end.value() - start.value()) / MmLayout.PAGE;
    }

    @Override
    public String toString() {
        return String.format("V0x%016x-V0x%016x anonymous    %s%s%s%s", start.value(), end.value(),
                writable() ? "w" : "-", (flags & PageTableEntry.USER) != 0 ? "u" : "-",
                (flags & PageTableEntry.NO_EXECUTE) != 0 ? "-" : "x", copyOnWrite ? " cow" : "");
    }
}
