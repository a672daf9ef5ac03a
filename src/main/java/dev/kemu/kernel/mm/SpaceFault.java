package dev.kemu.kernel.mm;

import dev.kemu.machine.VirtAddr;

/**
 * What the page-fault handler did with a fault in an address space's user half: the fact a
 * fault report can add ("resolved: copy-on-write copy in space 2") or the reason it is a real
 * error ("write to a read-only VMA").
 */
public record SpaceFault(int spaceId, VirtAddr address, Resolution resolution) {
    public enum Resolution {
        ZERO_FILLED(true, "first write to an untouched page: a zeroed frame mapped"),
        ZERO_PAGE_MAPPED(true, "first read of an untouched page: the shared zero page mapped read-only"),
        COPIED(true, "copy-on-write: the shared frame copied, the copy mapped writable"),
        REUSED(true, "copy-on-write: the frame was no longer shared and is mapped writable again"),
        NOT_IN_ANY_VMA(false, "the address is in no VMA of the space"),
        ACCESS_DENIED(false, "the VMA's flags forbid the access (write to a read-only VMA, user access to a"
                + " supervisor VMA, or fetch from a no-execute VMA)"),
        ALREADY_PRESENT(false, "the page is present with the rights the access needs (reserved bit, or a stale TLB)"),
        OUT_OF_MEMORY(false, "no free frame for the page or its tables");

        private final boolean resolved;
        private final String description;

        Resolution(boolean resolved, String description) {
            this.resolved = resolved;
            this.description = description;
        }

        /** True when the handler fixed the cause and the instruction can restart. */
        public boolean resolved() {
            return resolved;
        }

        public String description() {
            return description;
        }
    }

    @Override
    public String toString() {
        return String.format("#PF at %s in space %d: %s", address, spaceId, resolution.description());
    }
}
