package dev.kemu.toolchain.keystone;

/** The Keystone backend cannot run on this machine (its module was not fetched); GNU as still can. */
public final class KeystoneUnavailableException extends RuntimeException {
    public KeystoneUnavailableException(String message) {
        super(message);
    }
}
