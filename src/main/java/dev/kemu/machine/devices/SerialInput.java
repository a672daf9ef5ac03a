package dev.kemu.machine.devices;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.OptionalInt;

/**
 * The bytes a UART receives, in order: given up front (a file's contents, a test's text) and,
 * optionally, a stream polled without blocking (standard input), so that LSR.DR can say
 * whether a byte is there without stalling the guest. An exhausted or empty input simply has
 * no byte ready; the guest's polling loop decides what to do about that.
 */
public final class SerialInput {
    private final ArrayDeque<Byte> pending = new ArrayDeque<>();
    private final InputStream stream;
    private boolean streamEnded;

    private SerialInput(byte[] bytes, InputStream stream) {
        for (byte b : bytes) {
            pending.add(b);
        }
        this.stream = stream;
        this.streamEnded = stream == null;
    }

    /** No input: DR stays clear. */
    public static SerialInput none() {
        return new SerialInput(new byte[0], null);
    }

    public static SerialInput of(byte[] bytes) {
        return new SerialInput(bytes.clone(), null);
    }

    public static SerialInput of(String text) {
        return of(text.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    }

    /** The contents of {@code file}, read now; a missing or unreadable file is an error that names it. */
    public static SerialInput file(Path file) {
        try {
            return new SerialInput(Files.readAllBytes(file), null);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("serial input " + file + ": no such file; give an existing file, "
                    + "or - for standard input", e);
        } catch (IOException e) {
            throw new UncheckedIOException("serial input " + file + ": cannot read it (" + e.getMessage() + ")", e);
        }
    }

    /** Bytes from {@code stream} as they become available (standard input: {@code System.in}). */
    public static SerialInput stream(InputStream stream) {
        return new SerialInput(new byte[0], java.util.Objects.requireNonNull(stream, "an input stream"));
    }

    /** Whether a byte is ready; never blocks. */
    public boolean available() {
        return !pending.isEmpty() || pollStream();
    }

    /** The next byte, or empty when none is ready. */
    public OptionalInt next() {
        return available() ? OptionalInt.of(pending.removeFirst() & 0xff) : OptionalInt.empty();
    }

    void append(byte b) {
        pending.addLast(b);
    }

    void clear() {
        pending.clear();
    }

    private boolean pollStream() {
        if (streamEnded) {
            return false;
        }
        try {
            if (stream.available() <= 0) {
                return false;
            }
            int b = stream.read();
            if (b < 0) {
                streamEnded = true;
                return false;
            }
            pending.addLast((byte) b);
            return true;
        } catch (IOException e) {
            streamEnded = true; // a closed or broken stdin is the end of the input, not a guest error
            return false;
        }
    }
}
