package dev.kemu.kernel;

import dev.kemu.machine.Machine;

/**
 * One hypercall service. {@code args} holds RDI, RSI, RDX, R10, R8, R9 (the Linux syscall
 * order); the array is reused between calls. Returns the value for RAX: a result, or a
 * negative errno from {@link GuestAbi}.
 */
@FunctionalInterface
public interface Hypercall {
    long call(Machine machine, long[] args);
}
