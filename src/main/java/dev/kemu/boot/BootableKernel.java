package dev.kemu.boot;

import dev.kemu.elf.ElfImage;
import dev.kemu.machine.GuestRam;

/**
 * A kernel image as one boot protocol's loader reads it: what it loads, and how the loader prepares guest RAM and
 * kemu's firmware stub for the handoff ({@link #load}). The host sets no register: everything the kernel receives is
 * in guest RAM and in the firmware's configuration words.
 */
public interface BootableKernel {
    /** The loaded image: the segments at the physical addresses they are copied to, and the kernel's symbols. */
    ElfImage image();

    BootProtocol protocol();

    /** Loads the kernel and what the protocol hands to it, and fills the firmware stub's configuration words. */
    Handoff load(GuestRam ram, ElfImage firmware, BootOptions options);
}
