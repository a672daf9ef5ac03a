package dev.kemu.elf;

/**
 * A PT_LOAD segment: {@code data} (file bytes) goes to physical {@code paddr}, followed by
 * {@code memSize - data.length} zero bytes; the code runs at virtual {@code vaddr}.
 */
public record Segment(long vaddr, long paddr, long memSize, int flags, byte[] data) {
    public static final int EXECUTE = 1, WRITE = 2, READ = 4;

    @Override
    public String toString() {
        return String.format("LOAD V0x%x <- P0x%x, 0x%x bytes (0x%x from file) %s%s%s", vaddr, paddr, memSize,
                data.length, (flags & READ) != 0 ? "r" : "-", (flags & WRITE) != 0 ? "w" : "-",
                (flags & EXECUTE) != 0 ? "x" : "-");
    }
}
