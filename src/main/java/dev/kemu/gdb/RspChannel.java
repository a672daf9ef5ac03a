package dev.kemu.gdb;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * One debugger connection. A reader thread takes every byte off the socket, so that a Ctrl-C
 * (byte 0x03) arriving while the guest runs interrupts it at once; packets are queued for the
 * stub's thread, which acknowledges them ({@code +}, or {@code -} on a bad checksum) until the
 * client asks for no-ack mode.
 */
final class RspChannel implements AutoCloseable {
    /** What the reader found: a packet's payload, an interrupt request, or the end of the stream. */
    sealed interface Incoming permits Packet, Interrupt, Closed {}

    record Packet(byte[] payload) implements Incoming {
        String text() {
            return new String(payload, StandardCharsets.ISO_8859_1);
        }
    }

    record Interrupt() implements Incoming {}

    record Closed(String why) implements Incoming {}

    private static final int MAX_PACKET = 1 << 20;

    private final InputStream in;
    private final OutputStream out;
    private final BlockingQueue<Incoming> incoming = new LinkedBlockingQueue<>();
    private final Runnable onInterrupt;
    private final Thread reader;
    private volatile boolean acknowledging = true;

    RspChannel(InputStream in, OutputStream out, Runnable onInterrupt) {
        this.in = in;
        this.out = out;
        this.onInterrupt = onInterrupt;
        this.reader = new Thread(this::readLoop, "kemu-gdb-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /** The next packet or interrupt; blocks. After the client went away, always {@link Closed}. */
    Incoming next() {
        try {
            Incoming item = incoming.take();
            if (item instanceof Closed) {
                incoming.add(item); // stays closed
            }
            return item;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Closed("interrupted");
        }
    }

    /** Takes an interrupt that is already queued (a Ctrl-C sent while the guest was stopped), if any. */
    Optional<Interrupt> pendingInterrupt() {
        Incoming head = incoming.peek();
        if (head instanceof Interrupt interrupt) {
            incoming.poll();
            return Optional.of(interrupt);
        }
        return Optional.empty();
    }

    void stopAcknowledging() {
        acknowledging = false;
    }

    synchronized void send(String payload) throws IOException {
        out.write(RspPackets.frame(RspPackets.runLengthEncode(payload)));
        out.flush();
    }

    /** Sends a reply whose payload is binary data (already containing raw bytes): escaped, not run-length encoded. */
    synchronized void sendBinary(byte[] prefix, byte[] data) throws IOException {
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        payload.writeBytes(prefix);
        payload.writeBytes(RspPackets.escape(data));
        out.write(RspPackets.frame(payload.toByteArray()));
        out.flush();
    }

    private synchronized void acknowledge(boolean good) throws IOException {
        if (acknowledging) {
            out.write(good ? '+' : '-');
            out.flush();
        }
    }

    private void readLoop() {
        try {
            while (true) {
                int b = in.read();
                if (b < 0) {
                    incoming.add(new Closed("the debugger closed the connection"));
                    return;
                }
                if (b == 0x03) {
                    incoming.add(new Interrupt());
                    onInterrupt.run();
                } else if (b == '$') {
                    readPacket();
                } // '+', '-' and noise between packets are ignored: replies are not retransmitted
            }
        } catch (IOException e) {
            incoming.add(new Closed("connection failed: " + e.getMessage()));
        } catch (ClientGoneException e) {
            incoming.add(new Closed(e.getMessage()));
        }
    }

    private void readPacket() throws IOException {
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != '#') {
            if (b < 0) {
                throw new ClientGoneException("the debugger disconnected inside a packet");
            }
            if (payload.size() >= MAX_PACKET) {
                throw new ClientGoneException("a packet longer than " + MAX_PACKET + " bytes; closing the connection");
            }
            payload.write(b);
        }
        int high = in.read(), low = in.read();
        if (low < 0) {
            throw new ClientGoneException("the debugger disconnected inside a packet's checksum");
        }
        byte[] bytes = payload.toByteArray();
        int expected = Character.digit(high, 16) << 4 | Character.digit(low, 16);
        boolean good = Character.digit(high, 16) >= 0 && Character.digit(low, 16) >= 0
                && expected == RspPackets.checksum(bytes);
        acknowledge(good || !acknowledging);
        if (good || !acknowledging) {
            incoming.add(new Packet(bytes));
        }
    }

    private static final class ClientGoneException extends RuntimeException {
        ClientGoneException(String message) {
            super(message);
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
        out.close();
    }
}
