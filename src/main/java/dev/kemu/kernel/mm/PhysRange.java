package dev.kemu.kernel.mm;

import dev.kemu.machine.PhysAddr;

/** Physical range {@code [start, end)} with a frame type. */
public record PhysRange(PhysAddr start, PhysAddr end, FrameType type) {
    public long frames() {
        return (end.value() - start.value()) / MmLayout.PAGE;
    }

    @Override
    public String toString() {
        return String.format("P0x%09x-P0x%09x %-13s %6d frames", start.value(), end.value(), type.label(), frames());
    }
}
