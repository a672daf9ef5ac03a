package dev.kemu.boot.acpi;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Little-endian bytes of a firmware table, appended field by field. */
final class ByteWriter {
    private final ByteArrayOutputStream out;

    ByteWriter(int expectedSize) {
        this.out = new ByteArrayOutputStream(expectedSize);
    }

    void u8(int value) {
        out.write(value);
    }

    void u16(int value) {
        u8(value);
        u8(value >>> 8);
    }

    void u32(long value) {
        u16((int) value);
        u16((int) (value >>> 16));
    }

    void u64(long value) {
        u32(value);
        u32(value >>> 32);
    }

    void ascii(String text) {
        out.writeBytes(text.getBytes(StandardCharsets.US_ASCII));
    }

    void zeros(int count) {
        out.writeBytes(new byte[count]);
    }

    int size() {
        return out.size();
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
