package dev.kemu.boot;

/** One range of the boot memory map, {@code [base, base+length)}; type as Multiboot defines it. */
public record MemoryMapEntry(long base, long length, int type) {
    public static final int USABLE = 1, RESERVED = 2;

    public long end() {
        return base + length;
    }

    @Override
    public String toString() {
        return String.format("[P0x%x-P0x%x) %s", base, end(), type == USABLE ? "usable" : "reserved");
    }
}
