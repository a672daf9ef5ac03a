package dev.kemu.kernel.mm;

/** Physical range {@code [start, end)} with a frame type. */
public record PhysRange(long start, long end, FrameType type) {
    public long frames() {
        return (end - start) / MmLayout.PAGE;
    }

    @Override
    public String toString() {
        return String.format("P0x%09x-P0x%09x %-13s %6d frames", start, end, type.label(), frames());
    }
}
