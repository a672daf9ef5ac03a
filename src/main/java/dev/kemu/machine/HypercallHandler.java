package dev.kemu.machine;

/**
 * Serves {@code out} to the hypercall port: service {@code number} (AL) with the six argument
 * registers RDI, RSI, RDX, R10, R8, R9 in {@code args} (reused between calls); the result goes
 * to RAX. See {@link Machine#attachHypercalls}.
 */
public interface HypercallHandler {
    long call(Machine machine, int number, long[] args);

    /** How many argument registers service {@code number} reads; lets the Java fallback read fewer. */
    default int arity(int number) {
        return 6;
    }
}
