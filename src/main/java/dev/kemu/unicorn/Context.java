package dev.kemu.unicorn;

import java.lang.foreign.MemorySegment;

/**
 * A saved CPU context ({@code uc_context}). By default it holds registers only (Unicorn's
 * {@code UC_CTL_CONTEXT_CPU} mode); guest RAM is not part of it. {@link #bytes()} exposes the
 * saved state so that callers can patch fields Unicorn has no API for (see the notes on
 * the #DF workaround); it is only meaningful for the library version that wrote it.
 */
public final class Context implements AutoCloseable {
    private final Unicorn engine;
    private MemorySegment pointer;
    private final long size;

    Context(Unicorn engine, MemorySegment pointer, long size) {
        this.engine = engine;
        this.pointer = pointer;
        this.size = size;
    }

    MemorySegment pointer() {
        if (pointer == null) {
            throw new IllegalStateException("context already freed");
        }
        return pointer;
    }

    /** The raw saved state, {@code uc_context_size} bytes. */
    public MemorySegment bytes() {
        return pointer().reinterpret(size);
    }

    public long size() {
        return size;
    }

    @Override
    public void close() {
        if (pointer != null) {
            engine.freeContext(pointer);
            pointer = null;
        }
    }
}
