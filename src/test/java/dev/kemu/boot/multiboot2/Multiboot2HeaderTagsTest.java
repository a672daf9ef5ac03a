package dev.kemu.boot.multiboot2;

import dev.kemu.elf.ElfFormatException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Header tags of a flat (non-ELF) Multiboot 2 image, built byte by byte as the specification lays them out. */
class Multiboot2HeaderTagsTest {
    private static final Path FILE = Path.of("flat.bin");
    private static final int MAGIC = 0xE85250D6;

    /** A header at offset 0 with {@code tags} (each: type, flags, then body u32s), an end tag, then code bytes. */
    private static byte[] image(int[]... tags) {
        ByteBuffer b = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
        b.position(16);
        for (int[] tag : tags) {
            int size = 8 + 4 * (tag.length - 2);
            b.putShort((short) tag[0]).putShort((short) tag[1]).putInt(size);
            for (int i = 2; i < tag.length; i++) {
                b.putInt(tag[i]);
            }
            b.position((b.position() + 7) & ~7);
        }
        b.putShort((short) 0).putShort((short) 0).putInt(8);
        int length = b.position();
        b.putInt(0, MAGIC).putInt(4, 0).putInt(8, length).putInt(12, -(MAGIC + length));
        return b.array();
    }

    @Test
    void addressAndEntryTags_loadTheFileAtLoadAddr_andEnterAtEntryAddr() {
        byte[] file = image(new int[]{2, 0, 0x100000, 0x100000, 0, 0x102000}, new int[]{3, 0, 0x100080},
                new int[]{6, 0});
        Multiboot2Kernel kernel = Multiboot2Kernel.parse(FILE, file).orElseThrow();
        assertEquals(0x100080, kernel.entry());
        assertEquals(1, kernel.image().segments().size());
        assertEquals(0x100000, kernel.image().segments().getFirst().paddr());
        assertEquals(0x2000, kernel.image().segments().getFirst().memSize(), "up to bss_end_addr");
        assertEquals(List.of(), kernel.notes());
    }

    @Test
    void addressTagWithoutEntryTag_saysWhatIsMissing() {
        byte[] file = image(new int[]{2, 0, 0x100000, 0x100000, 0, 0});
        assertEquals("flat.bin: the Multiboot 2 header has an address tag but no entry address tag (type 3), so "
                + "nothing says where to enter; add one", assertThrows(ElfFormatException.class,
                () -> Multiboot2Kernel.parse(FILE, file)).getMessage());
    }

    @Test
    void flatFileWithoutAddressTag_saysItCannotBeLoaded() {
        byte[] file = image(new int[]{3, 0, 0x100080});
        assertEquals("flat.bin: not an ELF file, and its Multiboot 2 header at file offset 0x0, 1 tags has no address "
                + "tag (type 2), so nothing says where to load it; link it as ELF or add the tag",
                assertThrows(ElfFormatException.class, () -> Multiboot2Kernel.parse(FILE, file)).getMessage());
    }

    @Test
    void unknownRequiredTag_isRefused_optionalOneNoted() {
        // At 16 + 24 (address tag) + 16 (entry tag, 12 bytes padded to 8): 0x38.
        byte[] required = image(new int[]{2, 0, 0x100000, 0x100000, 0, 0}, new int[]{3, 0, 0x100080},
                new int[]{42, 0});
        assertEquals("flat.bin: the Multiboot 2 header has a required tag of type 42 at file offset 0x38, which the "
                + "specification does not define, so no loader may boot it; remove it or set its optional flag (bit 0)",
                assertThrows(ElfFormatException.class, () -> Multiboot2Kernel.parse(FILE, required)).getMessage());
        byte[] optional = image(new int[]{2, 0, 0x100000, 0x100000, 0, 0}, new int[]{3, 0, 0x100080},
                new int[]{42, 1}, new int[]{4, 1, 0});
        assertEquals(List.of("the Multiboot 2 header has an optional tag of unknown type 42; ignored",
                "the Multiboot 2 header gives console flags (tag 4); kemu has no EGA text console, only COM1 and the "
                        + "debug console, and ignores them"),
                Multiboot2Kernel.parse(FILE, optional).orElseThrow().notes());
    }

    @Test
    void mipsArchitecture_isRefused() {
        byte[] file = image(new int[]{3, 0, 0x100080});
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int length = b.getInt(8);
        b.putInt(4, 4).putInt(12, -(MAGIC + 4 + length));
        assertEquals("flat.bin: the Multiboot 2 header asks for architecture 4; kemu boots x86 kernels only "
                + "(architecture 0, i386 protected mode)", assertThrows(ElfFormatException.class,
                () -> Multiboot2Kernel.parse(FILE, file)).getMessage());
    }
}
