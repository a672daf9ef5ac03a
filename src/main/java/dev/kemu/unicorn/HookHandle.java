package dev.kemu.unicorn;

import java.lang.foreign.Arena;

/** A registered hook. {@link #remove()} unregisters it and frees its upcall stub; removing twice is harmless. */
public final class HookHandle implements AutoCloseable {
    private final Unicorn engine;
    private final long nativeHandle;
    private final Arena stubArena;
    private boolean removed;

    HookHandle(Unicorn engine, long nativeHandle, Arena stubArena) {
        this.engine = engine;
        this.nativeHandle = nativeHandle;
        this.stubArena = stubArena;
    }

    public void remove() {
        if (removed) {
            return;
        }
        removed = true;
        engine.deleteHook(nativeHandle);
        stubArena.close();
    }

    void releaseWithEngine() {
        if (!removed) {
            removed = true;
            stubArena.close();
        }
    }

    @Override
    public void close() {
        remove();
    }
}
