package dev.kemu.machine;

/** A guest-physical address. Prints as {@code P0x...}. */
public record PhysAddr(long value) implements Comparable<PhysAddr> {
    public static PhysAddr of(long value) {
        return new PhysAddr(value);
    }

    public PhysAddr plus(long offset) {
        return new PhysAddr(value + offset);
    }

    public boolean isPageAligned() {
        return (value & 0xfff) == 0;
    }

    @Override
    public int compareTo(PhysAddr other) {
        return Long.compareUnsigned(value, other.value);
    }

    @Override
    public String toString() {
        return String.format("P0x%x", value);
    }
}
