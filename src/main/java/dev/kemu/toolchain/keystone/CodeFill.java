package dev.kemu.toolchain.keystone;

import java.util.StringJoiner;

/**
 * The NOPs GNU ld fills a gap with inside an x86-64 executable output section: as many 10-byte NOPs
 * ({@code 66 2e 0f 1f 84 00 00 00 00 00}) as fit, then one shorter NOP for the rest. Keystone's
 * {@code .balign} would pad with its own (up to 15-byte) NOPs, which decode alike but are other bytes;
 * the snippet differential test holds these to ld's.
 */
final class CodeFill {
    private static final String[] NOPS = {
        "",
        "0x90",
        "0x66, 0x90",
        "0x0f, 0x1f, 0x00",
        "0x0f, 0x1f, 0x40, 0x00",
        "0x0f, 0x1f, 0x44, 0x00, 0x00",
        "0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00",
        "0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00",
        "0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00",
        "0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00",
        "0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00",
    };

    private CodeFill() {
    }

    /** A directive emitting {@code length} bytes of ld's fill ({@code .byte}), or an empty one for none. */
    static String directive(int length) {
        if (length == 0) {
            return ".byte";
        }
        StringJoiner bytes = new StringJoiner(", ", ".byte ", "");
        int left = length;
        while (left > 0) {
            int nop = Math.min(left, NOPS.length - 1);
            bytes.add(NOPS[nop]);
            left -= nop;
        }
        return bytes.toString();
    }
}
