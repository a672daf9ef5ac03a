package dev.kemu.boot.acpi;

/**
 * A system description table: the 36-byte header every ACPI table but the RSDP starts with, then the body.
 *
 * <pre>
 *   +0  signature (4)   +4  length (u32)   +8  revision   +9  checksum (whole table sums to 0)
 *   +10 OEM ID (6)      +16 OEM table ID (8)   +24 OEM revision (u32)
 *   +28 creator ID (4)  +32 creator revision (u32)   +36 body
 * </pre>
 */
final class SdtWriter {
    static final int HEADER_BYTES = 36;
    private static final int LENGTH_OFFSET = 4, CHECKSUM_OFFSET = 9;
    private final ByteWriter out = new ByteWriter(256);

    SdtWriter(String signature, int revision) {
        out.ascii(signature);
        out.u32(0); // length, patched by finish()
        out.u8(revision);
        out.u8(0); // checksum, patched by finish()
        out.ascii(AcpiTables.OEM_ID);
        out.ascii(AcpiTables.OEM_TABLE_ID);
        out.u32(1);
        out.ascii("KEMU");
        out.u32(1);
    }

    void u8(int value) {
        out.u8(value);
    }

    void u16(int value) {
        out.u16(value);
    }

    void u32(long value) {
        out.u32(value);
    }

    void u64(long value) {
        out.u64(value);
    }

    byte[] finish() {
        byte[] bytes = out.bytes();
        int length = bytes.length;
        bytes[LENGTH_OFFSET] = (byte) length;
        bytes[LENGTH_OFFSET + 1] = (byte) (length >>> 8);
        bytes[LENGTH_OFFSET + 2] = (byte) (length >>> 16);
        bytes[LENGTH_OFFSET + 3] = (byte) (length >>> 24);
        bytes[CHECKSUM_OFFSET] = AcpiTables.checksum(bytes, 0, length);
        return bytes;
    }
}
