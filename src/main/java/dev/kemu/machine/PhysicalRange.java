package dev.kemu.machine;

/** Guest-physical {@code [first, first + size)}, size > 0; prints as {@code P0x1000-P0x1fff} (both ends inclusive). */
record PhysicalRange(long first, long size) {
    long end() {
        return first + size;
    }

    boolean overlaps(PhysicalRange other) {
        return Long.compareUnsigned(first, other.end()) < 0 && Long.compareUnsigned(other.first, end()) < 0;
    }

    @Override
    public String toString() {
        return PhysAddr.of(first) + "-" + PhysAddr.of(end() - 1);
    }
}
