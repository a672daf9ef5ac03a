package dev.kemu.gdb;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A minimal gdb-side client of the remote protocol, for tests: sends packets, checks acks and checksums. */
final class RspTestClient implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    RspTestClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(60_000);
        socket.setTcpNoDelay(true); // as gdb does: an ack and the next packet are separate small writes
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** Sends {@code payload} and returns the reply, run-length decoded; asserts the stub acknowledged. */
    String request(String payload) throws IOException {
        sendRaw(new String(RspPackets.frame(payload), StandardCharsets.ISO_8859_1));
        int ack = in.read();
        if (ack != '+') {
            throw new AssertionError("expected '+' for " + payload + ", got " + (char) ack);
        }
        return readReply();
    }

    /** Inserts a software breakpoint at {@code address} and continues: the stop reply. */
    String continueTo(long address) throws IOException {
        String inserted = request("Z0," + Long.toHexString(address) + ",1");
        if (!inserted.equals("OK")) {
            throw new AssertionError("Z0 at 0x" + Long.toHexString(address) + " was refused: " + inserted);
        }
        return request("c");
    }

    /** The hex reply of {@code m}: {@code length} bytes at the virtual {@code address}. */
    String memory(long address, int length) throws IOException {
        return request("m" + Long.toHexString(address) + "," + Integer.toHexString(length));
    }

    /** A reply packet, skipping console output ({@code O...}) packets. */
    String readReply() throws IOException {
        while (true) {
            String reply = readPacket();
            if (!(reply.startsWith("O") && !reply.equals("OK") && reply.length() % 2 == 1)) {
                return reply;
            }
        }
    }

    String readPacket() throws IOException {
        int b;
        while ((b = in.read()) != '$') {
            if (b < 0) {
                throw new AssertionError("the stub closed the connection");
            }
        }
        StringBuilder payload = new StringBuilder();
        while ((b = in.read()) != '#') {
            payload.append((char) b);
        }
        String sum = "" + (char) in.read() + (char) in.read();
        byte[] bytes = payload.toString().getBytes(StandardCharsets.ISO_8859_1);
        if (Integer.parseInt(sum, 16) != RspPackets.checksum(bytes)) {
            throw new AssertionError("bad checksum " + sum + " on reply " + payload);
        }
        out.write('+');
        out.flush();
        return RspPackets.runLengthDecode(payload.toString());
    }

    void sendRaw(String bytes) throws IOException {
        out.write(bytes.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    /** The output of {@code monitor command} (one {@code O} packet, then {@code OK}). */
    String monitor(String command) throws IOException {
        sendRaw(new String(RspPackets.frame("qRcmd," + RspPackets.hex(command)), StandardCharsets.ISO_8859_1));
        readByte(); // '+'
        String output = readPacket();
        String ok = readPacket();
        if (!output.startsWith("O") || !ok.equals("OK")) {
            throw new AssertionError("monitor " + command + " answered " + output + ", then " + ok);
        }
        return new String(RspPackets.unhex(output.substring(1)), StandardCharsets.UTF_8);
    }

    int readByte() throws IOException {
        return in.read();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
