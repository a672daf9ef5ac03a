package dev.kemu.toolchain.keystone;

/**
 * Keystone's module stopped abnormally (a WebAssembly trap, a C++ throw, abort or exit). The
 * instance it happened in is unusable afterwards; {@link KeystoneEngine} marks itself broken.
 */
public final class KeystoneTrapException extends RuntimeException {
    public KeystoneTrapException(String message, Throwable cause) {
        super(message, cause);
    }

    public KeystoneTrapException(String message) {
        super(message);
    }
}
