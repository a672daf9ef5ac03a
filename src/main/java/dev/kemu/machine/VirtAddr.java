package dev.kemu.machine;

/** A guest-virtual (linear) address. Prints as {@code V0x...}. */
public record VirtAddr(long value) implements Comparable<VirtAddr> {
    public static VirtAddr of(long value) {
        return new VirtAddr(value);
    }

    public VirtAddr plus(long offset) {
        return new VirtAddr(value + offset);
    }

    /** Canonical in 4-level paging: bits 63..47 all equal to bit 47. */
    public boolean isCanonical() {
        return (value >> 47) == 0 || (value >> 47) == -1;
    }

    /** The 9-bit table index used at {@code level} (4 = PML4 ... 1 = PT). */
    public int index(int level) {
        return (int) ((value >>> (12 + 9 * (level - 1))) & 0x1ff);
    }

    @Override
    public int compareTo(VirtAddr other) {
        return Long.compareUnsigned(value, other.value);
    }

    @Override
    public String toString() {
        return String.format("V0x%x", value);
    }
}
