package dev.kemu.unicorn;

/**
 * A guest-physical range served by Java callbacks ({@code uc_mmio_map}). {@link #close()}
 * unmaps it and releases its two registry entries; closing twice is harmless. When the engine
 * closes first, the mapping goes with it and only the registry entries are released.
 */
public final class MmioRegion implements AutoCloseable {
    private final Unicorn engine;
    private final long address;
    private final long size;
    private final long readId;
    private final long writeId;
    private boolean closed;

    MmioRegion(Unicorn engine, long address, long size, long readId, long writeId) {
        this.engine = engine;
        this.address = address;
        this.size = size;
        this.readId = readId;
        this.writeId = writeId;
    }

    /** The first guest-physical address of the region. */
    public long address() {
        return address;
    }

    public long size() {
        return size;
    }

    /** The registry ids of the read and write callbacks (for tests of the binding). */
    long[] targetIds() {
        return new long[]{readId, writeId};
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            engine.unmapMmio(this);
        } finally {
            release();
        }
    }

    /** The engine closed: the mapping is gone with it; only the registry entries are dropped. */
    void releaseWithEngine() {
        if (!closed) {
            closed = true;
            release();
        }
    }

    private void release() {
        UpcallTargets.unregister(readId);
        UpcallTargets.unregister(writeId);
    }
}
