package dev.kemu.machine;

/**
 * Serves {@code out} to the hypercall port: service {@code number} (AL) with the six argument
 * registers RDI, RSI, RDX, R10, R8, R9 in {@code args} (reused between calls); the result goes
 * to RAX. See {@link Machine#attachHypercalls}.
 */
public interface HypercallHandler {
    long call(Machine machine, int number, long[] args);

    /**
     * How many argument registers service {@code number} reads; the machine reads only those (natively and in
     * the Java fallback) and passes the rest as 0.
     */
    default int arity(int number) {
        return 6;
    }

    /**
     * Calls {@code changed} with a service number each time that service's {@link #arity} changes, so that a
     * machine that copied the arities (the native trampoline keeps them in its dispatch block) stays current. A
     * handler whose arities never change keeps this default, which calls nothing.
     */
    default void onArityChange(java.util.function.IntConsumer changed) {
    }
}
