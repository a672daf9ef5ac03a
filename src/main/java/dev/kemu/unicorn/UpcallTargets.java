package dev.kemu.unicorn;

import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * The one registry of upcall targets, for the binding's own hooks and for native trampolines
 * such as the machine layer's hypercall hook. Upcall stubs are shared JVM-wide (making one
 * costs tens of microseconds), so the {@code user_data} or a field a trampoline passes back
 * is an id into this table, never a pointer. Id 0 stays empty: a NULL {@code user_data}
 * finds no target.
 *
 * <p>Lookups are lock-free on the emulating thread: a registration publishes a new array
 * with one volatile write, so the thread that runs the hook sees the target with the array.
 */
public final class UpcallTargets {
    private static final Object LOCK = new Object();
    private static volatile Object[] targets = new Object[64];
    private static final ArrayDeque<Integer> FREE = new ArrayDeque<>();
    private static int next = 1;

    private UpcallTargets() {}

    /** Registers {@code target}; returns the id that selects it. Pass the id to a hook that owns it. */
    public static long register(Object target) {
        synchronized (LOCK) {
            int id = FREE.isEmpty() ? next++ : FREE.pop();
            Object[] updated = Arrays.copyOf(targets, Math.max(targets.length, Integer.highestOneBit(id) * 2));
            updated[id] = target;
            targets = updated;
            return id;
        }
    }

    /**
     * The target of {@code id}, or null. Never null while Unicorn can call the hook (uc_hook_del
     * and uc_close come before the id is released); callers still tolerate null, since an
     * exception escaping an upcall would end the JVM.
     */
    public static Object target(long id) {
        Object[] current = targets;
        return id > 0 && id < current.length ? current[(int) id] : null;
    }

    static void unregister(long id) {
        synchronized (LOCK) {
            Object[] updated = targets.clone();
            updated[(int) id] = null;
            targets = updated;
            FREE.push((int) id);
        }
    }
}
