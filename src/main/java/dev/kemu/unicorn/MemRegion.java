package dev.kemu.unicorn;

/** One mapped region as {@code uc_mem_regions} reports it: {@code [begin, end]}, end inclusive. */
public record MemRegion(long begin, long end, int prot) {
    public long size() {
        return end - begin + 1;
    }

    @Override
    public String toString() {
        return String.format("[0x%x-0x%x] %s", begin, end, Prot.describe(prot));
    }
}
