package dev.kemu.unicorn;

import java.lang.foreign.Arena;

/**
 * A registered hook. {@link #remove()} unregisters it; removing twice is harmless. The upcall
 * stub lives in an automatic arena held here, so it stays valid while Unicorn may call it and
 * is freed by the GC after the hook is removed (or the engine closed).
 */
public final class HookHandle implements AutoCloseable {
    private final Unicorn engine;
    private final long nativeHandle;
    @SuppressWarnings("unused") // keeps the upcall stub reachable while the hook exists
    private Arena stubArena;
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
        engine.forget(this);
        stubArena = null;
    }

    void releaseWithEngine() {
        removed = true;
        stubArena = null;
    }

    @Override
    public void close() {
        remove();
    }
}
