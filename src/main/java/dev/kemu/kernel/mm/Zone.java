package dev.kemu.kernel.mm;

import dev.kemu.machine.PhysAddr;

/**
 * Linux's x86-64 memory zones by physical address: DMA below 16 MiB (ISA DMA's 24 address bits),
 * DMA32 below 4 GiB (32-bit DMA devices), NORMAL above. A zone is a property of the frame's
 * address, so the frame table needs no field for it.
 */
public enum Zone {
    DMA(0, 16L << 20),
    DMA32(16L << 20, 4L << 30),
    NORMAL(4L << 30, Long.MAX_VALUE);

    /** The zones lowest first; {@code values()} clones its array on every call, too slow for the allocator's loops. */
    static final Zone[] ALL = values();

    private final long start, end;

    Zone(long start, long end) {
        this.start = start;
        this.end = end;
    }

    public static Zone of(PhysAddr frame) {
        long pa = frame.value();
        return pa < DMA.end ? DMA : pa < DMA32.end ? DMA32 : NORMAL;
    }

    /** First frame number of the zone. */
    public long startPfn() {
        return start / MmLayout.PAGE;
    }

    /** First frame number past the zone. */
    public long endPfn() {
        return end / MmLayout.PAGE;
    }

    public String label() {
        return name();
    }
}
