package dev.kemu.gdb;

/** A packet the stub cannot parse; answered with an error reply, never fatal to the session. */
public final class MalformedPacketException extends RuntimeException {
    public MalformedPacketException(String message) {
        super(message);
    }
}
