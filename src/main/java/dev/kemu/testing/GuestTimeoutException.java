package dev.kemu.testing;

/**
 * A guest run that did not return within its wall-clock limit even after the machine was told
 * to stop: host code (a hypercall's Java service) is stuck. The machine that ran it is abandoned.
 */
public final class GuestTimeoutException extends RuntimeException {
    public GuestTimeoutException(String message) {
        super(message);
    }
}
