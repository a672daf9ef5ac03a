package dev.kemu.nativelib;

/** A native library is missing, unloadable or too old. The message says how to get a suitable one. */
public final class NativeLibraryException extends RuntimeException {
    public NativeLibraryException(String message) {
        super(message);
    }

    public NativeLibraryException(String message, Throwable cause) {
        super(message, cause);
    }
}
