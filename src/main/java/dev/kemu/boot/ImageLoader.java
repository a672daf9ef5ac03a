package dev.kemu.boot;

import dev.kemu.elf.ElfFormatException;
import dev.kemu.elf.ElfImage;
import dev.kemu.elf.Segment;
import dev.kemu.machine.GuestRam;

/**
 * Copies an image's segments to their physical (LMA) addresses and zero-fills the rest. A kernel is checked
 * against guest RAM and against the low memory that is kemu's own (the Multiboot information and the firmware
 * stub), which it must not overwrite.
 */
public final class ImageLoader {
    private ImageLoader() {}

    public static void load(GuestRam ram, ElfImage image) {
        for (Segment segment : image.segments()) {
            requireInRam(ram, image, segment);
            copy(ram, segment);
        }
    }

    /** Loads {@code kernel}, refusing a segment outside RAM or over {@code [reservedStart, reservedEnd)}. */
    public static void loadKernel(GuestRam ram, BootableKernel kernel, long reservedStart, long reservedEnd) {
        ElfImage image = kernel.image();
        for (Segment segment : image.segments()) {
            requireInRam(ram, image, segment);
            if (segment.memSize() > 0 && segment.paddr() < reservedEnd && segment.paddr() + segment.memSize() > reservedStart) {
                throw new ElfFormatException(String.format("%s: segment %s overlaps [P0x%x-P0x%x), where kemu keeps the "
                        + "%s information and its firmware stub; link the kernel at 1 MiB (0x100000) or above",
                        image.path(), segment, reservedStart, reservedEnd,
                        kernel.protocol() == BootProtocol.MULTIBOOT ? "Multiboot" : kernel.protocol().title()));
            }
        }
        image.segments().forEach(segment -> copy(ram, segment));
    }

    private static void requireInRam(GuestRam ram, ElfImage image, Segment segment) {
        if (!ram.contains(segment.paddr(), segment.memSize())) {
            throw new ElfFormatException(String.format("%s: segment %s does not fit in guest RAM of 0x%x bytes; link it "
                    + "lower or give the guest more RAM (--ram)", image.path(), segment, ram.size()));
        }
    }

    private static void copy(GuestRam ram, Segment segment) {
        ram.write(segment.paddr(), segment.data());
        ram.zeroUntouched(segment.paddr() + segment.data().length, segment.memSize() - segment.data().length);
    }
}
