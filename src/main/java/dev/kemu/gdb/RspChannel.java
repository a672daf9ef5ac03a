package dev.kemu.gdb;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PushbackInputStream;
import java.nio.charset.StandardCharsets;

/**
 * One debugger connection, read on the stub's own thread: packets are acknowledged ({@code +}, or
 * {@code -} on a bad checksum) until the client asks for no-ack mode. While the guest runs, the
 * run control polls {@link #interruptWaiting} for a Ctrl-C (byte 0x03); in all-stop mode gdb sends
 * nothing else then. No reader thread: a packet costs no hand-over between threads.
 */
final class RspChannel implements AutoCloseable {
    /** What was read: a packet's payload, an interrupt request, or the end of the stream. */
    sealed interface Incoming permits Packet, Interrupt, Closed {}

    record Packet(byte[] payload) implements Incoming {
        String text() {
            return new String(payload, StandardCharsets.ISO_8859_1);
        }
    }

    record Interrupt() implements Incoming {}

    record Closed(String why) implements Incoming {}

    private static final int MAX_PACKET = 1 << 20;

    private final PushbackInputStream in;
    private final OutputStream out;
    private boolean acknowledging = true;
    private Closed closed;

    RspChannel(InputStream in, OutputStream out) {
        this.in = new PushbackInputStream(new BufferedInputStream(in));
        this.out = out;
    }

    /** The next packet or interrupt; blocks. After the client went away, always {@link Closed}. */
    Incoming next() {
        if (closed != null) {
            return closed;
        }
        try {
            while (true) {
                int b = in.read();
                if (b < 0) {
                    return close("the debugger closed the connection");
                }
                if (b == 0x03) {
                    return new Interrupt();
                }
                if (b == '$') {
                    Incoming packet = readPacket();
                    if (packet != null) {
                        return packet;
                    }
                } // '+', '-' and noise between packets are ignored: replies are not retransmitted
            }
        } catch (IOException e) {
            return close("connection failed: " + e.getMessage());
        }
    }

    /** Whether a Ctrl-C is waiting (consumed if so); never blocks. Other bytes stay for {@link #next}. */
    boolean interruptWaiting() {
        try {
            if (closed != null || in.available() == 0) {
                return false;
            }
            int b = in.read();
            if (b == 0x03) {
                return true;
            }
            if (b >= 0) {
                in.unread(b);
            }
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    private Closed close(String why) {
        closed = new Closed(why);
        return closed;
    }

    void stopAcknowledging() {
        acknowledging = false;
    }

    void send(String payload) throws IOException {
        out.write(RspPackets.frameRunLengthEncoded(payload.getBytes(StandardCharsets.ISO_8859_1)));
        out.flush();
    }

    /** Sends a reply whose payload is binary data (already containing raw bytes): escaped, not run-length encoded. */
    void sendBinary(byte[] prefix, byte[] data) throws IOException {
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        payload.writeBytes(prefix);
        payload.writeBytes(RspPackets.escape(data));
        out.write(RspPackets.frame(payload.toByteArray()));
        out.flush();
    }

    /** The rest of a packet after its '$'; null (and a '-') when its checksum is wrong. */
    private Incoming readPacket() throws IOException {
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != '#') {
            if (b < 0) {
                return close("the debugger disconnected inside a packet");
            }
            if (payload.size() >= MAX_PACKET) {
                return close("a packet longer than " + MAX_PACKET + " bytes; closing the connection");
            }
            payload.write(b);
        }
        int high = in.read(), low = in.read();
        if (low < 0) {
            return close("the debugger disconnected inside a packet's checksum");
        }
        byte[] bytes = payload.toByteArray();
        boolean good = Character.digit(high, 16) >= 0 && Character.digit(low, 16) >= 0
                && (Character.digit(high, 16) << 4 | Character.digit(low, 16)) == RspPackets.checksum(bytes);
        if (acknowledging) {
            out.write(good ? '+' : '-');
            out.flush();
            return good ? new Packet(bytes) : null;
        }
        return new Packet(bytes); // no-ack mode: the transport is trusted
    }

    @Override
    public void close() throws IOException {
        in.close();
        out.close();
    }
}
