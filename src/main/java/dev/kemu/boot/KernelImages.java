package dev.kemu.boot;

import dev.kemu.boot.limine.LimineKernel;
import dev.kemu.boot.multiboot2.Multiboot2Header;
import dev.kemu.boot.multiboot2.Multiboot2Kernel;
import dev.kemu.elf.ElfFormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Reads a kernel file for the boot protocol it carries, or for the one {@code --protocol} forces. Real loaders are
 * told the protocol (GRUB's {@code multiboot} or {@code multiboot2} command, Limine's {@code protocol:} line); kemu
 * picks from the image, in {@link BootProtocol}'s order: Limine requests (an ELF64 with a base revision tag or a
 * request), then a Multiboot 2 header, then a Multiboot 1 header.
 */
public final class KernelImages {
    private KernelImages() {}

    public static BootableKernel read(Path path, Optional<BootProtocol> forced) {
        byte[] file;
        try {
            file = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new ElfFormatException(path + ": cannot read: " + e.getMessage(), e);
        }
        return parse(path, file, forced);
    }

    public static BootableKernel parse(Path path, byte[] file, Optional<BootProtocol> forced) {
        BootProtocol protocol = forced.orElseGet(() -> detect(path, file));
        return switch (protocol) {
            case LIMINE -> LimineKernel.parse(path, file);
            case MULTIBOOT2 -> Multiboot2Kernel.parse(path, file).orElseThrow(() -> new ElfFormatException(path
                    + ": not a Multiboot 2 image: no Multiboot 2 header (magic 0xE85250D6, architecture, "
                    + "header_length, checksum with a zero sum) at an 8-byte boundary in the first 32 KiB of the "
                    + "file; place the header in a section the linker script puts first"));
            case MULTIBOOT -> MultibootKernel.parse(path, file);
        };
    }

    /**
     * The protocol the image offers first. A file with none is read as Multiboot 1, the protocol of QEMU's
     * {@code -kernel}, whose error says what is missing (or that the file is no ELF, or a truncated one).
     */
    static BootProtocol detect(Path path, byte[] file) {
        if (LimineKernel.carriesRequests(path, file)) {
            return BootProtocol.LIMINE;
        }
        return Multiboot2Header.hasMagic(file) ? BootProtocol.MULTIBOOT2 : BootProtocol.MULTIBOOT;
    }
}
