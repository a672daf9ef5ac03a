package dev.kemu.gdb;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The GDB Remote Serial Protocol's framing, as pure functions: {@code $payload#xx} with a modulo-256
 * checksum, the escape of {@code # $ } *} (a {@code }} followed by the byte XOR 0x20) in binary data,
 * run-length encoding of replies ({@code c*N}: N - 29 more copies of c) and hex.
 */
public final class RspPackets {
    private static final byte ESCAPE = '}';
    private static final char[] HEX = "0123456789abcdef".toCharArray();
    private static final byte[] HEX_BYTES = "0123456789abcdef".getBytes(StandardCharsets.ISO_8859_1);

    private RspPackets() {}

    public static int checksum(byte[] payload) {
        int sum = 0;
        for (byte b : payload) {
            sum += b & 0xff;
        }
        return sum & 0xff;
    }

    /** The packet for {@code payload} (already escaped where it is binary): {@code $payload#xx}. */
    public static byte[] frame(byte[] payload) {
        byte[] packet = new byte[payload.length + 4];
        packet[0] = '$';
        System.arraycopy(payload, 0, packet, 1, payload.length);
        int sum = checksum(payload);
        packet[payload.length + 1] = '#';
        packet[payload.length + 2] = (byte) HEX[sum >> 4];
        packet[payload.length + 3] = (byte) HEX[sum & 0xf];
        return packet;
    }

    public static byte[] frame(String payload) {
        return frame(payload.getBytes(StandardCharsets.ISO_8859_1));
    }

    /**
     * The packet for a reply, run-length encoded ({@link #runLengthEncode}) and framed in one pass over its
     * bytes: the stub's replies go through here, so it works on a byte array, not on a String's characters.
     */
    public static byte[] frameRunLengthEncoded(byte[] payload) {
        byte[] out = new byte[payload.length + 4]; // encoding never lengthens
        int at = 1;
        int sum = 0;
        int n = payload.length;
        int i = 0;
        while (i < n) {
            byte c = payload[i];
            int run = 1;
            while (i + run < n && payload[i + run] == c && run < 98) {
                run++;
            }
            int extra = run - 1;
            if (extra == 6 || extra == 7) {
                extra = 5; // '#' and '$' may not be counts; the rest starts a new run
            }
            if (extra >= 3 && c != '*' && c != '#' && c != '$' && c != ESCAPE) {
                out[at] = c;
                out[at + 1] = '*';
                out[at + 2] = (byte) (29 + extra);
                at += 3;
                sum += (c & 0xff) + '*' + 29 + extra;
                i += extra + 1;
            } else {
                out[at++] = c;
                sum += c & 0xff;
                i++;
            }
        }
        out[0] = '$';
        out[at] = '#';
        out[at + 1] = (byte) HEX[(sum >> 4) & 0xf];
        out[at + 2] = (byte) HEX[sum & 0xf];
        return at + 3 == out.length ? out : java.util.Arrays.copyOf(out, at + 3);
    }

    /** Escapes the bytes that may not appear raw inside a packet ({@code # $ } *}). */
    public static byte[] escape(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(data.length + 8);
        for (byte b : data) {
            if (b == '#' || b == '$' || b == ESCAPE || b == '*') {
                out.write(ESCAPE);
                out.write(b ^ 0x20);
            } else {
                out.write(b);
            }
        }
        return out.toByteArray();
    }

    /** Undoes {@link #escape}; a trailing lone escape byte is malformed. */
    public static byte[] unescape(byte[] data, int from, int to) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(to - from);
        for (int i = from; i < to; i++) {
            if (data[i] == ESCAPE) {
                if (++i == to) {
                    throw new MalformedPacketException("binary data ends inside an escape ('}' is the last byte)");
                }
                out.write(data[i] ^ 0x20);
            } else {
                out.write(data[i]);
            }
        }
        return out.toByteArray();
    }

    /**
     * Run-length encodes a reply: a run of 4 or more equal characters becomes {@code c*N} with N =
     * 29 + the extra copies; counts whose character would be {@code #} or {@code $} (6 or 7 extra)
     * are shortened, as the protocol forbids them.
     */
    public static String runLengthEncode(String text) {
        byte[] packet = frameRunLengthEncoded(text.getBytes(StandardCharsets.ISO_8859_1));
        return new String(packet, 1, packet.length - 4, StandardCharsets.ISO_8859_1);
    }

    /** Expands {@code c*N} runs (what a client does with a stub's reply). */
    public static String runLengthDecode(String text) {
        StringBuilder out = new StringBuilder(text.length() * 2);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '*') {
                if (out.isEmpty() || i + 1 >= text.length()) {
                    throw new MalformedPacketException("run-length marker '*' without a character or a count");
                }
                int extra = text.charAt(++i) - 29;
                char repeated = out.charAt(out.length() - 1);
                out.append(String.valueOf(repeated).repeat(Math.max(0, extra)));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    public static String hex(byte[] bytes) {
        byte[] out = new byte[bytes.length * 2];
        hex(bytes, 0, bytes.length, out, 0);
        return new String(out, StandardCharsets.ISO_8859_1);
    }

    /** Writes {@code count} bytes of {@code data} from {@code from} as hex into {@code out} at {@code at}; returns the end. */
    static int hex(byte[] data, int from, int count, byte[] out, int at) {
        for (int i = from; i < from + count; i++) {
            int b = data[i] & 0xff;
            out[at] = HEX_BYTES[b >> 4];
            out[at + 1] = HEX_BYTES[b & 0xf];
            at += 2;
        }
        return at;
    }

    public static String hex(String text) {
        return hex(text.getBytes(StandardCharsets.UTF_8));
    }

    public static byte[] unhex(String text) {
        if ((text.length() & 1) != 0) {
            throw new MalformedPacketException("odd number of hex digits in '" + text + "'");
        }
        byte[] bytes = new byte[text.length() / 2];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (digit(text.charAt(2 * i)) << 4 | digit(text.charAt(2 * i + 1)));
        }
        return bytes;
    }

    /** A hexadecimal number as the protocol writes addresses and lengths (no prefix). */
    public static long number(String text) {
        if (text.isEmpty() || text.length() > 16) {
            throw new MalformedPacketException("not a hex number: '" + text + "'");
        }
        long value = 0;
        for (int i = 0; i < text.length(); i++) {
            value = value << 4 | digit(text.charAt(i));
        }
        return value;
    }

    private static int digit(char c) {
        int d = Character.digit(c, 16);
        if (d < 0) {
            throw new MalformedPacketException("not a hex digit: '" + c + "'");
        }
        return d;
    }

    /** A little-endian register or memory value as hex. */
    public static String littleEndianHex(long value, int bytes) {
        StringBuilder out = new StringBuilder(bytes * 2);
        for (int i = 0; i < bytes; i++) {
            int b = (int) (value >>> (8 * i)) & 0xff;
            out.append(HEX[b >> 4]).append(HEX[b & 0xf]);
        }
        return out.toString();
    }

    public static long littleEndian(byte[] bytes) {
        long value = 0;
        for (int i = Math.min(8, bytes.length) - 1; i >= 0; i--) {
            value = value << 8 | (bytes[i] & 0xff);
        }
        return value;
    }
}
