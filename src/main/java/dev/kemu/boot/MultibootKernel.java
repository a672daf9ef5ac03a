package dev.kemu.boot;

import dev.kemu.elf.ElfFormatException;
import dev.kemu.elf.ElfImage;
import dev.kemu.elf.Segment;
import dev.kemu.elf.SymbolTable;
import dev.kemu.kernel.GuestAbi;
import dev.kemu.machine.GuestRam;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A kernel file as a Multiboot 1 loader sees it: its header, what to load where ({@link #image()}'s segments: the
 * ELF program headers, or the one segment of the header's address fields when flag bit 16 asks for them), the
 * physical entry point, and the notes on header flags kemu accepts without honouring. The file may be an i386
 * ELF32 (what QEMU takes), an x86-64 ELF64 (which QEMU refuses and kemu accepts), or, with the address fields, any
 * binary. Symbols come from the ELF when there is one; they are never needed.
 */
public record MultibootKernel(ElfImage image, MultibootHeader header, long entry, List<String> notes)
        implements BootableKernel {
    private static final long FOUR_GIB = 1L << 32;

    public static MultibootKernel read(Path path) {
        try {
            return parse(path, Files.readAllBytes(path));
        } catch (IOException e) {
            throw new ElfFormatException(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    public static MultibootKernel parse(Path path, byte[] file) {
        // An ELF is checked first, so that a truncated, foreign (ARM) or damaged ELF says so rather than "no header".
        Optional<ElfImage> elf = ElfImage.isElf(file) ? Optional.of(ElfImage.parse(path, file)) : Optional.empty();
        MultibootHeader header = MultibootHeader.find(file).orElseThrow(() -> new ElfFormatException(path
                + ": not a Multiboot image: " + (elf.isPresent() ? "" : "not an ELF file, and ") + "no Multiboot header "
                + "(magic 0x1BADB002, flags, checksum with a zero sum) at a 4-byte boundary in the first 8 KiB of the "
                + "file; place the header in a section the linker script puts first"));
        if (header.unknownRequirements() != 0) {
            throw new ElfFormatException(String.format("%s: %s requires features 0x%04x (flags bits 3-15) that the "
                    + "Multiboot 0.6.96 specification does not define, so no loader may boot it; clear those bits",
                    path, header, header.unknownRequirements()));
        }
        if (header.wantsAddressFields()) {
            MultibootAddressFields fields = header.addressFields().orElseThrow(() -> new ElfFormatException(
                    String.format("%s: truncated Multiboot image: %s has bit 16 set but the file ends before the "
                            + "address fields (32 bytes from the header)", path, header)));
            Segment text = fields.segment(path, file, header.offset());
            SymbolTable symbols = elf.map(ElfImage::symbols).orElse(SymbolTable.empty());
            ElfImage loaded = new ElfImage(path, fields.entryAddr(), List.of(text), symbols);
            return new MultibootKernel(loaded, header, fields.entryAddr(), header.notes());
        }
        ElfImage image = elf.orElseThrow(() -> new ElfFormatException(String.format("%s: not an ELF file, and its "
                + "%s does not set bit 16 (address fields), so nothing says where to load it; link it as ELF or fill "
                + "the address fields", path, header)));
        return new MultibootKernel(image, header, physicalEntry(image), header.notes());
    }

    /**
     * The ELF entry as a physical address: {@code e_entry} when a segment is loaded there, else translated through
     * the segment whose virtual range holds it (a higher-half kernel linked with its entry's virtual address).
     */
    public static long physicalEntry(ElfImage image) {
        long entry = image.entry();
        Optional<Segment> byPhysical = image.segments().stream()
                .filter(s -> Long.compareUnsigned(entry - s.paddr(), s.memSize()) < 0).findFirst();
        long physical = byPhysical.map(s -> entry).orElseGet(() -> image.segments().stream()
                .filter(s -> Long.compareUnsigned(entry - s.vaddr(), s.memSize()) < 0).findFirst()
                .map(s -> entry - s.vaddr() + s.paddr())
                .orElseThrow(() -> new ElfFormatException(String.format("%s: the ELF entry point 0x%x lies in no PT_LOAD "
                        + "segment, so a loader cannot jump there; set ENTRY() in the linker script to the 32-bit "
                        + "entry", image.path(), entry))));
        if (Long.compareUnsigned(physical, FOUR_GIB) >= 0) {
            throw new ElfFormatException(String.format("%s: the entry point 0x%x is not a 32-bit physical address; a "
                    + "Multiboot loader enters the kernel in 32-bit protected mode", image.path(), physical));
        }
        return physical;
    }

    @Override
    public BootProtocol protocol() {
        return BootProtocol.MULTIBOOT;
    }

    /**
     * Loads as a Multiboot 1 loader does: the kernel by its header's address fields or its ELF program headers,
     * the modules after it, the information block; the firmware stub jumps to the header's (or the ELF's) entry.
     */
    @Override
    public Handoff load(GuestRam ram, ElfImage firmware, BootOptions options) {
        ImageLoader.loadKernel(ram, this, MultibootInfo.ADDRESS, firmware.physicalEnd());
        List<MemoryMapEntry> map = MultibootInfo.pcMemoryMap(options.ramBytes());
        MultibootModules.Directory modules = MultibootModules.load(ram, physicalEnd(), MultibootInfo.usableEnd(map),
                options.modules());
        MultibootInfo.write(ram, map, options.commandLine(), modules);
        FirmwareWords.protectedModeHandoff(ram, firmware, entry, MultibootInfo.ADDRESS,
                GuestAbi.MULTIBOOT_BOOTLOADER_MAGIC);
        return Handoff.protectedMode(entry, EntryState.MULTIBOOT1, notes);
    }

    /** The first physical address after everything the kernel occupies (its bss included). */
    public long physicalEnd() {
        return image.physicalEnd();
    }
}
