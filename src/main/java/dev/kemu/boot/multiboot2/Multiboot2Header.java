package dev.kemu.boot.multiboot2;

import dev.kemu.elf.ElfFormatException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The Multiboot 2 header of a kernel file (specification 2.0, section 3.1), found as GRUB finds it: a 64-bit aligned
 * {@code magic} within the first 32768 bytes of the file whose {@code magic + architecture + header_length +
 * checksum} is 0 (mod 2^32), followed by tags up to the end tag.
 *
 * <pre>
 *   offset  field
 *    0      u32 magic          0xE85250D6
 *    4      u32 architecture   0 = i386 protected mode (4 = MIPS, which kemu cannot run)
 *    8      u32 header_length  the whole header, tags included
 *   12      u32 checksum       -(magic + architecture + header_length)
 *   16..    tags               u16 type, u16 flags (bit 0: optional), u32 size, then the body; 8-byte aligned
 * </pre>
 */
public record Multiboot2Header(int offset, int architecture, int length, List<HeaderTag> tags) {
    public static final int MAGIC = 0xE85250D6;
    public static final int SEARCH_BYTES = 32768;
    public static final int ARCHITECTURE_I386 = 0;
    private static final int FIXED_BYTES = 16, TAG_HEADER_BYTES = 8;

    /** One header tag: its type, whether it is optional (flags bit 0), and its body (after the 8-byte tag header). */
    public record HeaderTag(int type, boolean optional, int offset, byte[] body) {
        public int u32(int at) {
            return ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN).getInt(at);
        }
    }

    /** Whether {@code file} has the magic at an 8-byte boundary in its first 32 KiB (valid or not). */
    public static boolean hasMagic(byte[] file) {
        return magicOffset(file).isPresent();
    }

    /**
     * The header in {@code file}, or empty when it has no magic there; a magic with a wrong checksum, or a header
     * whose tags run past its length or the file, is an error naming {@code path} and the fault.
     */
    public static Optional<Multiboot2Header> find(Path path, byte[] file) {
        Optional<Integer> found = magicOffset(file);
        if (found.isEmpty()) {
            return Optional.empty();
        }
        int at = found.get();
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        if (at + FIXED_BYTES > file.length) {
            throw new ElfFormatException(String.format("%s: truncated Multiboot 2 header at file offset 0x%x: the file "
                    + "ends after 0x%x of its 16 fixed bytes", path, at, file.length - at));
        }
        int architecture = b.getInt(at + 4), length = b.getInt(at + 8), checksum = b.getInt(at + 12);
        int sum = MAGIC + architecture + length + checksum;
        if (sum != 0) {
            throw new ElfFormatException(String.format("%s: bad Multiboot 2 header checksum at file offset 0x%x: magic "
                    + "+ architecture (%d) + header_length (0x%x) + checksum (0x%08x) = 0x%08x, not 0; set checksum to "
                    + "0x%08x", path, at, architecture, length, checksum, sum, -(MAGIC + architecture + length)));
        }
        if (architecture != ARCHITECTURE_I386) {
            throw new ElfFormatException(String.format("%s: the Multiboot 2 header asks for architecture %d; kemu "
                    + "boots x86 kernels only (architecture 0, i386 protected mode)", path, architecture));
        }
        if (Integer.compareUnsigned(length, FIXED_BYTES + TAG_HEADER_BYTES) < 0 || (long) at + length > file.length) {
            throw new ElfFormatException(String.format("%s: truncated Multiboot 2 header at file offset 0x%x: "
                    + "header_length 0x%x %s", path, at, length, (long) at + length > file.length
                    ? "runs past the end of the file (0x" + Integer.toHexString(file.length) + " bytes)"
                    : "leaves no room for the end tag"));
        }
        return Optional.of(new Multiboot2Header(at, architecture, length, tags(path, b, at, length)));
    }

    private static Optional<Integer> magicOffset(byte[] file) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 0; at + 4 <= Math.min(file.length, SEARCH_BYTES); at += 8) {
            if (b.getInt(at) == MAGIC) {
                return Optional.of(at);
            }
        }
        return Optional.empty();
    }

    private static List<HeaderTag> tags(Path path, ByteBuffer b, int header, int length) {
        List<HeaderTag> tags = new ArrayList<>();
        int end = header + length;
        for (int at = header + FIXED_BYTES; ; ) {
            if (at + TAG_HEADER_BYTES > end) {
                throw new ElfFormatException(String.format("%s: truncated Multiboot 2 header at file offset 0x%x: its "
                        + "tags reach header_length 0x%x without an end tag (type 0, size 8)", path, header, length));
            }
            int type = Short.toUnsignedInt(b.getShort(at)), flags = Short.toUnsignedInt(b.getShort(at + 2));
            int size = b.getInt(at + 4);
            if (Integer.compareUnsigned(size, TAG_HEADER_BYTES) < 0 || (long) at + size > end) {
                throw new ElfFormatException(String.format("%s: truncated Multiboot 2 header at file offset 0x%x: the "
                        + "tag of type %d at file offset 0x%x has size 0x%x, which %s", path, header, type, at, size,
                        Integer.compareUnsigned(size, TAG_HEADER_BYTES) < 0 ? "is less than its own 8-byte header"
                                : "runs past header_length 0x" + Integer.toHexString(length)));
            }
            if (type == 0) {
                return List.copyOf(tags);
            }
            byte[] body = new byte[size - TAG_HEADER_BYTES];
            b.get(at + TAG_HEADER_BYTES, body);
            tags.add(new HeaderTag(type, (flags & 1) != 0, at, body));
            at += (size + 7) & ~7;
        }
    }

    @Override
    public String toString() {
        return String.format("Multiboot 2 header at file offset 0x%x, %d tags", offset, tags.size());
    }
}
