package dev.kemu.kernel.mm;

/** Leaf sizes {@link PageTables} maps. */
public enum PageSize {
    SIZE_4K(1L << 12, 1),
    SIZE_2M(1L << 21, 2);

    private final long bytes;
    private final int leafLevel;

    PageSize(long bytes, int leafLevel) {
        this.bytes = bytes;
        this.leafLevel = leafLevel;
    }

    public long bytes() {
        return bytes;
    }

    /** Paging level holding the leaf: 1 = PT, 2 = PD. */
    public int leafLevel() {
        return leafLevel;
    }
}
