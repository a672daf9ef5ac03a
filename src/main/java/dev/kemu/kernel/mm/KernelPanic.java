package dev.kemu.kernel.mm;

/**
 * A broken invariant of the kernel's own metadata in guest RAM. The message states the
 * facts (which structure, which field, what was found). Never used for bad guest input,
 * which gets an error result instead.
 */
public final class KernelPanic extends RuntimeException {
    public KernelPanic(String message) {
        super("kernel panic: " + message);
    }
}
