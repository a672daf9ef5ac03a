package dev.kemu.gdb;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RspPacketsTest {
    @Test
    void frame_ofOk_isTheChecksummedPacketFromTheProtocolDocs() {
        // 'O' + 'K' = 0x4f + 0x4b = 0x9a
        assertEquals("$OK#9a", new String(RspPackets.frame("OK"), StandardCharsets.ISO_8859_1));
    }

    @Test
    void runLengthEncode_fourZeros_isZeroStarSpace() {
        assertEquals("0* ", RspPackets.runLengthEncode("0000"));
    }

    @Test
    void runLengthEncode_sevenAndEightCopies_neverUseHashOrDollarAsCount() {
        for (int copies = 1; copies <= 200; copies++) {
            String encoded = RspPackets.runLengthEncode("a".repeat(copies));
            for (int i = 0; i + 1 < encoded.length(); i++) {
                if (encoded.charAt(i) == '*') {
                    char count = encoded.charAt(i + 1);
                    assertTrue(count != '#' && count != '$' && count <= 126, copies + " copies gave " + encoded);
                }
            }
            assertEquals("a".repeat(copies), RspPackets.runLengthDecode(encoded));
        }
    }

    @Property
    void runLength_roundTrips(@ForAll @StringLength(max = 300) @CharRange(from = '0', to = '3') String hexish) {
        String encoded = RspPackets.runLengthEncode(hexish);
        assertEquals(hexish, RspPackets.runLengthDecode(encoded));
        assertTrue(encoded.length() <= hexish.length());
    }

    @Property
    void escape_roundTripsAndLeavesNoFramingByte(@ForAll byte[] data) {
        byte[] escaped = RspPackets.escape(data);
        for (byte b : escaped) {
            assertFalse(b == '#' || b == '$', "a framing byte survived escaping");
        }
        assertArrayEquals(data, RspPackets.unescape(escaped, 0, escaped.length));
    }

    @Test
    void unescape_loneEscapeAtTheEnd_isMalformed() {
        byte[] data = {'a', '}'};
        assertThrows(MalformedPacketException.class, () -> RspPackets.unescape(data, 0, data.length));
    }

    @Test
    void number_rejectsNonHexAndOverlongInput() {
        assertEquals(0xffffffff80100000L, RspPackets.number("ffffffff80100000"));
        assertThrows(MalformedPacketException.class, () -> RspPackets.number("12g4"));
        assertThrows(MalformedPacketException.class, () -> RspPackets.number("1".repeat(17)));
        assertThrows(MalformedPacketException.class, () -> RspPackets.number(""));
    }

    @Property
    void littleEndianHex_roundTrips(@ForAll long value) {
        assertEquals(value, RspPackets.littleEndian(RspPackets.unhex(RspPackets.littleEndianHex(value, 8))));
    }
}
