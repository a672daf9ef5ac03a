package dev.kemu.unicorn;

/**
 * A registered hook. {@link #remove()} unregisters it; removing twice is harmless. The native
 * stub is shared (see {@code Upcalls.Shape}); the hook owns only its registry entry.
 */
public final class HookHandle implements AutoCloseable {
    private final Unicorn engine;
    private final long nativeHandle;
    private final long targetId;
    private boolean removed;

    HookHandle(Unicorn engine, long nativeHandle, long targetId) {
        this.engine = engine;
        this.nativeHandle = nativeHandle;
        this.targetId = targetId;
    }

    public void remove() {
        if (removed) {
            return;
        }
        removed = true;
        engine.deleteHook(nativeHandle);
        release();
    }

    /** The engine closed: its native hooks are gone with it; only the registry entry is dropped. */
    void releaseWithEngine() {
        if (!removed) {
            removed = true;
            release();
        }
    }

    private void release() {
        if (targetId != 0) {
            UpcallTargets.unregister(targetId);
        }
    }

    @Override
    public void close() {
        remove();
    }
}
