package dev.kemu.unicorn;

/**
 * A libunicorn call failed. Carries the native error code, Unicorn's own text for it
 * ({@code uc_strerror}) and the call with its arguments in hex.
 */
public class UnicornException extends RuntimeException {
    private final UcError error;

    public UnicornException(UcError error, String strerror, String call) {
        super(call + " failed: " + error.nativeName() + " (" + strerror + ")");
        this.error = error;
    }

    public UnicornException(String message, Throwable cause) {
        super(message, cause);
        this.error = UcError.UNKNOWN;
    }

    /**
     * The same native error restated by a layer that knows more about it (which guest address,
     * which device), with the bare one as the cause; {@link #error()} stays the native code.
     */
    protected UnicornException(String message, UnicornException bare) {
        super(message, bare);
        this.error = bare.error();
    }

    public UcError error() {
        return error;
    }
}
