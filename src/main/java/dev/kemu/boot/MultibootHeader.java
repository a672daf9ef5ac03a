package dev.kemu.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The Multiboot 1 header of a kernel file (specification 0.6.96, section 3.1), found as a loader finds it: a
 * 32-bit aligned {@code magic} within the first 8192 bytes of the <em>file</em> whose {@code magic + flags + checksum}
 * is 0 (mod 2^32), like QEMU's {@code load_multiboot} (hw/i386/multiboot.c).
 *
 * <pre>
 *   offset  field          with flag
 *    0      u32 magic      0x1BADB002
 *    4      u32 flags
 *    8      u32 checksum   -(magic + flags)
 *   12..28  header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr   bit 16 ({@link MultibootAddressFields})
 *   32..44  mode_type, width, height, depth                                   bit 2 (video mode; kemu has no display)
 * </pre>
 *
 * Bits 0-15 of {@code flags} are requirements: a loader that does not know one must refuse the image. kemu knows
 * bits 0 (modules page-aligned: kemu always aligns them), 1 (memory information: always given) and 2 (video mode:
 * not honoured, a note); bits 16-31 are optional features, of which bit 16 (the address fields) is honoured.
 */
public record MultibootHeader(int offset, int flags, Optional<MultibootAddressFields> addressFields) {
    public static final int MAGIC = 0x1BADB002;
    /** The header must lie wholly within the file's first 8 KiB. */
    public static final int SEARCH_BYTES = 8192;
    public static final int PAGE_ALIGN_MODULES = 1, MEMORY_INFO = 1 << 1, VIDEO_MODE = 1 << 2, ADDRESS_FIELDS = 1 << 16;
    private static final int KNOWN_REQUIREMENTS = PAGE_ALIGN_MODULES | MEMORY_INFO | VIDEO_MODE;
    private static final int REQUIREMENT_BITS = 0xffff;
    private static final int MAGIC_FIELDS_BYTES = 12, ADDRESS_FIELDS_END = 32;

    /** The first valid header in {@code file}, or empty when the file carries none (not a Multiboot image). */
    public static Optional<MultibootHeader> find(byte[] file) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int limit = Math.min(file.length, SEARCH_BYTES);
        for (int at = 0; at + MAGIC_FIELDS_BYTES <= limit; at += 4) {
            if (b.getInt(at) == MAGIC && b.getInt(at) + b.getInt(at + 4) + b.getInt(at + 8) == 0) {
                int flags = b.getInt(at + 4);
                Optional<MultibootAddressFields> fields = Optional.empty();
                if ((flags & ADDRESS_FIELDS) != 0 && at + ADDRESS_FIELDS_END <= file.length) {
                    fields = Optional.of(new MultibootAddressFields(Integer.toUnsignedLong(b.getInt(at + 12)),
                            Integer.toUnsignedLong(b.getInt(at + 16)), Integer.toUnsignedLong(b.getInt(at + 20)),
                            Integer.toUnsignedLong(b.getInt(at + 24)), Integer.toUnsignedLong(b.getInt(at + 28))));
                }
                return Optional.of(new MultibootHeader(at, flags, fields));
            }
        }
        return Optional.empty();
    }

    public boolean wantsAddressFields() {
        return (flags & ADDRESS_FIELDS) != 0;
    }

    /** Requirement bits (0-15) that the specification does not define, which a loader must refuse. */
    public int unknownRequirements() {
        return flags & REQUIREMENT_BITS & ~KNOWN_REQUIREMENTS;
    }

    /** One line for each flag kemu accepts without honouring it. */
    public List<String> notes() {
        List<String> notes = new ArrayList<>();
        if ((flags & VIDEO_MODE) != 0) {
            notes.add("the Multiboot header asks for a video mode (flags bit 2); kemu has no display, so the kernel "
                    + "gets no video information (info flags bits 11 and 12 clear)");
        }
        return notes;
    }

    @Override
    public String toString() {
        return String.format("Multiboot header at file offset 0x%x, flags 0x%08x", offset, flags);
    }
}
