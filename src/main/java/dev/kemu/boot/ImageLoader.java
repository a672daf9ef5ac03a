package dev.kemu.boot;

import dev.kemu.elf.ElfFormatException;
import dev.kemu.elf.ElfImage;
import dev.kemu.elf.Segment;
import dev.kemu.machine.GuestRam;

/** Copies an image's PT_LOAD segments to their physical (LMA) addresses and zero-fills the rest. */
public final class ImageLoader {
    private ImageLoader() {}

    public static void load(GuestRam ram, ElfImage image) {
        for (Segment segment : image.segments()) {
            if (!ram.contains(segment.paddr(), segment.memSize())) {
                throw new ElfFormatException(String.format("%s: segment %s does not fit in guest RAM of 0x%x bytes",
                        image.path(), segment, ram.size()));
            }
            ram.write(segment.paddr(), segment.data());
            ram.fill(segment.paddr() + segment.data().length, segment.memSize() - segment.data().length, (byte) 0);
        }
    }

    /** Checks for a Multiboot 1 header (magic, checksum) in the first 8 KiB of the loaded image. */
    public static void requireMultibootHeader(GuestRam ram, ElfImage image) {
        long start = image.physicalStart();
        long end = Math.min(start + 8192, image.physicalEnd());
        for (long at = start; at + 12 <= end; at += 4) {
            int magic = ram.read32(at);
            if (magic == dev.kemu.kernel.GuestAbi.MULTIBOOT_HEADER_MAGIC
                    && magic + ram.read32(at + 4) + ram.read32(at + 8) == 0) {
                return;
            }
        }
        throw new ElfFormatException(image.path() + ": no Multiboot header (magic 0x1BADB002 with a valid checksum) "
                + "in the first 8 KiB of the image; boot.S must be linked first");
    }
}
