package dev.kemu.cli.daemon;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * The daemon's side of a connection: frames of a type byte, a u32 big-endian length and the payload, in the order
 * they are written, so the client's stdout and stderr get the bytes a plain JVM would have written to them. A
 * client that went away is not an error of the run: its output is dropped, as a JVM drops output to a closed pipe.
 */
final class Frames {
    static final byte STDOUT = 'O', STDERR = 'E', EXIT = 'X', FALLBACK = 'F';

    private final WritableByteChannel socket;
    private boolean broken;

    Frames(WritableByteChannel socket) {
        this.socket = socket;
    }

    synchronized void send(byte type, byte[] data, int offset, int length) {
        if (broken) {
            return;
        }
        try {
            byte[] header = {type, (byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length};
            for (ByteBuffer buffer : new ByteBuffer[] {ByteBuffer.wrap(header), ByteBuffer.wrap(data, offset, length)}) {
                while (buffer.hasRemaining()) {
                    socket.write(buffer);
                }
            }
        } catch (IOException e) {
            broken = true;
        }
    }

    void text(byte type, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        send(type, bytes, 0, bytes.length);
    }

    void exit(int status) {
        send(EXIT, new byte[] {(byte) (status >>> 24), (byte) (status >>> 16), (byte) (status >>> 8), (byte) status}, 0, 4);
    }

    /** One of the client's two descriptors, as a stream. */
    OutputStream stream(byte type) {
        return new OutputStream() {
            @Override
            public void write(int b) {
                send(type, new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                if (len > 0) {
                    send(type, b, off, len);
                }
            }
        };
    }
}
