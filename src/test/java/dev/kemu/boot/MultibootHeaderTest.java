package dev.kemu.boot;

import dev.kemu.elf.ElfFormatException;
import dev.kemu.elf.Segment;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Finding the header in a file and reading its address fields, against the specification's rules written out
 * here (search the first 8192 bytes at 4-byte alignment; the kludge arithmetic of section 3.1.3).
 */
class MultibootHeaderTest {
    private static final Path FILE = Path.of("k.bin");

    private static byte[] fileWithHeader(int length, int at, int flags, int[] addressFields) {
        byte[] file = new byte[length];
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        if (at + 12 <= length) {
            b.putInt(at, MultibootHeader.MAGIC).putInt(at + 4, flags).putInt(at + 8, -(MultibootHeader.MAGIC + flags));
        }
        for (int i = 0; i < addressFields.length && at + 12 + 4 * i + 4 <= length; i++) {
            b.putInt(at + 12 + 4 * i, addressFields[i]);
        }
        return file;
    }

    @Property
    void header_isFoundExactlyWhenAlignedAndWhollyInTheFirst8KiB(@ForAll @IntRange(min = 0, max = 12288) int at,
                                                                  @ForAll @IntRange(min = 0, max = 3) int misalign,
                                                                  @ForAll @IntRange(min = 0, max = 0xffff) int flags) {
        int offset = (at & ~3) + misalign;
        byte[] file = fileWithHeader(12300 + 16, offset, flags & ~MultibootHeader.ADDRESS_FIELDS, new int[0]);
        Optional<MultibootHeader> found = MultibootHeader.find(file);
        boolean expected = misalign == 0 && offset + 12 <= MultibootHeader.SEARCH_BYTES;
        assertEquals(expected, found.isPresent(), "header at " + offset);
        found.ifPresent(h -> {
            assertEquals(offset, h.offset());
            assertEquals(flags & ~MultibootHeader.ADDRESS_FIELDS, h.flags());
        });
    }

    @Property
    void addressFields_loadTheFileFromTheHeaderMinusItsDistanceToLoadAddr(
            @ForAll @IntRange(min = 0, max = 0x400) int textOffset, @ForAll @IntRange(min = 0, max = 0x200) int headerInText,
            @ForAll @IntRange(min = 0, max = 0x800) int extra, @ForAll @IntRange(min = 0, max = 0x3000) int bss,
            @ForAll boolean loadToEndOfFile) {
        int headerOffset = (textOffset + headerInText) & ~3;
        Assume.that(headerOffset >= textOffset && headerOffset + 32 <= MultibootHeader.SEARCH_BYTES);
        int loadAddr = 0x100000;
        int textSize = headerOffset - textOffset + 32 + extra;
        int headerAddr = loadAddr + headerOffset - textOffset;
        int loadEnd = loadToEndOfFile ? 0 : loadAddr + textSize;
        int bssEnd = bss == 0 ? 0 : loadAddr + textSize + bss;
        byte[] file = fileWithHeader(textOffset + textSize, headerOffset, 0x10003,
                new int[]{headerAddr, loadAddr, loadEnd, bssEnd, headerAddr});
        for (int i = 0; i < textOffset; i++) {
            file[i] = (byte) 0xcc; // not text: must not be loaded
        }
        MultibootHeader header = MultibootHeader.find(file).orElseThrow();
        Segment segment = header.addressFields().orElseThrow().segment(FILE, file, header.offset());
        assertEquals(loadAddr, segment.paddr());
        assertArrayEquals(Arrays.copyOfRange(file, textOffset, file.length), segment.data());
        assertEquals(textSize + bss, segment.memSize());
    }

    private static ElfFormatException fieldsError(int headerAddr, int loadAddr, int loadEnd, int bssEnd, int entry) {
        byte[] file = fileWithHeader(0x100, 0x20, 0x10003, new int[]{headerAddr, loadAddr, loadEnd, bssEnd, entry});
        MultibootHeader header = MultibootHeader.find(file).orElseThrow();
        return assertThrows(ElfFormatException.class,
                () -> header.addressFields().orElseThrow().segment(FILE, file, header.offset()));
    }

    @Test
    void headerAddrBelowLoadAddr_isInconsistent() {
        assertEquals("k.bin: inconsistent Multiboot address fields (flags bit 16): header_addr 0xff000 is below "
                + "load_addr 0x100000, but the header is part of the loaded text; fix these fields in the header",
                fieldsError(0xff000, 0x100000, 0, 0, 0x100000).getMessage());
    }

    @Test
    void textStartingBeforeTheFile_isInconsistent() {
        assertTrue(fieldsError(0x100040, 0x100000, 0, 0, 0x100040).getMessage().contains(
                "header_addr 0x100040 - load_addr 0x100000 = 0x40 is more than the header's file offset 0x20"));
    }

    @Test
    void loadEndBelowLoadAddr_isInconsistent() {
        assertTrue(fieldsError(0x100020, 0x100000, 0xf0000, 0, 0x100020).getMessage().contains(
                "load_end_addr 0xf0000 is below load_addr 0x100000"));
    }

    @Test
    void bssEndBelowLoadEnd_isInconsistent() {
        assertTrue(fieldsError(0x100020, 0x100000, 0x100080, 0x100040, 0x100020).getMessage().contains(
                "bss_end_addr 0x100040 is below the end of the loaded text 0x100080"));
    }

    @Test
    void entryOutsideTheText_isInconsistent() {
        assertTrue(fieldsError(0x100020, 0x100000, 0, 0, 0x200000).getMessage().contains(
                "entry_addr 0x200000 is outside the loaded text [0x100000, 0x100100)"));
    }

    @Test
    void bit16WithTheFileEndingInsideTheFields_isTruncation() {
        byte[] file = fileWithHeader(0x20 + 20, 0x20, 0x10003, new int[]{0x100020, 0x100000});
        MultibootHeader header = MultibootHeader.find(file).orElseThrow();
        assertTrue(header.addressFields().isEmpty());
        ElfFormatException e = assertThrows(ElfFormatException.class, () -> MultibootKernel.parse(FILE, file));
        assertEquals("k.bin: truncated Multiboot image: Multiboot header at file offset 0x20, flags 0x00010003 has bit "
                + "16 set but the file ends before the address fields (32 bytes from the header)", e.getMessage());
    }
}
