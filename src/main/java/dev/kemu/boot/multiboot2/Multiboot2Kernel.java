package dev.kemu.boot.multiboot2;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootProtocol;
import dev.kemu.boot.BootableKernel;
import dev.kemu.boot.EntryState;
import dev.kemu.boot.FirmwareWords;
import dev.kemu.boot.Handoff;
import dev.kemu.boot.ImageLoader;
import dev.kemu.boot.MemoryMapEntry;
import dev.kemu.boot.MultibootAddressFields;
import dev.kemu.boot.MultibootInfo;
import dev.kemu.boot.MultibootKernel;
import dev.kemu.boot.MultibootModules;
import dev.kemu.elf.ElfFormatException;
import dev.kemu.elf.ElfImage;
import dev.kemu.elf.Segment;
import dev.kemu.elf.SymbolTable;
import dev.kemu.machine.GuestRam;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A kernel file as a Multiboot 2 loader sees it (specification 2.0, section 3.1): the header's tags say what to load
 * (the address tag, else the ELF32 or ELF64 program headers), where to enter (the entry address tag, else the ELF
 * entry as a physical address) and which information tags the kernel wants. Tags kemu cannot honour are refused
 * when they are required and noted when they are optional or only ask for something kemu has not got (a
 * framebuffer, a console).
 */
public record Multiboot2Kernel(ElfImage image, Multiboot2Header header, long entry, List<Integer> requested,
                               List<String> notes) implements BootableKernel {
    private static final int INFORMATION_REQUEST = 1, ADDRESS = 2, ENTRY_ADDRESS = 3, CONSOLE_FLAGS = 4,
            FRAMEBUFFER = 5, MODULE_ALIGNMENT = 6, EFI_BOOT_SERVICES = 7, ENTRY_EFI32 = 8, ENTRY_EFI64 = 9,
            RELOCATABLE = 10;

    /** The kernel in {@code file}, or empty when it carries no Multiboot 2 magic. */
    public static Optional<Multiboot2Kernel> parse(Path path, byte[] file) {
        Optional<ElfImage> elf = ElfImage.isElf(file) ? Optional.of(ElfImage.parse(path, file)) : Optional.empty();
        return Multiboot2Header.find(path, file).map(header -> of(path, file, elf, header));
    }

    private static Multiboot2Kernel of(Path path, byte[] file, Optional<ElfImage> elf, Multiboot2Header header) {
        List<String> notes = new ArrayList<>();
        List<Integer> requested = new ArrayList<>();
        Optional<Multiboot2Header.HeaderTag> address = Optional.empty();
        Optional<Long> entryTag = Optional.empty();
        for (Multiboot2Header.HeaderTag tag : header.tags()) {
            switch (tag.type()) {
                case INFORMATION_REQUEST -> {
                    for (int at = 0; at + 4 <= tag.body().length; at += 4) {
                        int type = tag.u32(at);
                        requested.add(type);
                        if (!InfoTagType.isGiven(type) && !tag.optional()) {
                            throw new ElfFormatException(String.format("%s: the Multiboot 2 header requires the "
                                    + "information tag %s, which kemu does not give; set the request tag's optional "
                                    + "flag (bit 0) or drop the type from it", path, InfoTagType.describe(type)));
                        }
                        if (!InfoTagType.isGiven(type)) {
                            notes.add("the Multiboot 2 header asks for the information tag "
                                    + InfoTagType.describe(type) + " (optional); kemu does not give it");
                        }
                    }
                }
                case ADDRESS -> address = Optional.of(tag);
                case ENTRY_ADDRESS -> entryTag = Optional.of(Integer.toUnsignedLong(tag.u32(0)));
                case MODULE_ALIGNMENT -> { } // kemu page-aligns every module
                case FRAMEBUFFER -> notes.add("the Multiboot 2 header asks for a framebuffer (tag 5); kemu has no "
                        + "display, so the kernel gets no framebuffer information tag");
                case CONSOLE_FLAGS -> notes.add("the Multiboot 2 header gives console flags (tag 4); kemu has no "
                        + "EGA text console, only COM1 and the debug console, and ignores them");
                case EFI_BOOT_SERVICES, ENTRY_EFI32, ENTRY_EFI64 -> notes.add("the Multiboot 2 header has an EFI tag "
                        + "(type " + tag.type() + "); kemu boots like a BIOS loader and enters at the 32-bit entry");
                case RELOCATABLE -> notes.add("the Multiboot 2 header says the image is relocatable (tag 10); kemu "
                        + "loads it at its link address");
                default -> {
                    if (!tag.optional()) {
                        throw new ElfFormatException(String.format("%s: the Multiboot 2 header has a required tag of "
                                + "type %d at file offset 0x%x, which the specification does not define, so no loader "
                                + "may boot it; remove it or set its optional flag (bit 0)", path, tag.type(),
                                tag.offset()));
                    }
                    notes.add("the Multiboot 2 header has an optional tag of unknown type " + tag.type() + "; ignored");
                }
            }
        }
        if (address.isPresent()) {
            Multiboot2Header.HeaderTag tag = address.get();
            long entry = entryTag.orElseThrow(() -> new ElfFormatException(path + ": the Multiboot 2 header has an "
                    + "address tag but no entry address tag (type 3), so nothing says where to enter; add one"));
            MultibootAddressFields fields = new MultibootAddressFields(Integer.toUnsignedLong(tag.u32(0)),
                    Integer.toUnsignedLong(tag.u32(4)), Integer.toUnsignedLong(tag.u32(8)),
                    Integer.toUnsignedLong(tag.u32(12)), entry);
            Segment text = fields.segment(path, file, header.offset());
            ElfImage loaded = new ElfImage(path, entry, List.of(text),
                    elf.map(ElfImage::symbols).orElse(SymbolTable.empty()));
            return new Multiboot2Kernel(loaded, header, entry, List.copyOf(requested), List.copyOf(notes));
        }
        ElfImage image = elf.orElseThrow(() -> new ElfFormatException(String.format("%s: not an ELF file, and its "
                + "%s has no address tag (type 2), so nothing says where to load it; link it as ELF or add the tag",
                path, header)));
        long entry = entryTag.orElseGet(() -> MultibootKernel.physicalEntry(image));
        return new Multiboot2Kernel(image, header, entry, List.copyOf(requested), List.copyOf(notes));
    }

    @Override
    public BootProtocol protocol() {
        return BootProtocol.MULTIBOOT2;
    }

    /**
     * Loads as GRUB 2's {@code multiboot2} command does: the kernel, the modules page-aligned after it, then the
     * information structure (8-byte aligned, after the modules); EAX = 0x36d76289 and EBX = the structure.
     */
    @Override
    public Handoff load(GuestRam ram, ElfImage firmware, BootOptions options) {
        ImageLoader.loadKernel(ram, this, MultibootInfo.ADDRESS, firmware.physicalEnd());
        List<MemoryMapEntry> map = MultibootInfo.pcMemoryMap(options.ramBytes());
        long limit = MultibootInfo.usableEnd(map);
        MultibootModules.Directory modules = MultibootModules.load(ram, image.physicalEnd(), limit, options.modules());
        long info = (modules.end() + 4095) & -4096L;
        List<String> all = new ArrayList<>(notes);
        Multiboot2Info.write(ram, info, limit, map, options.commandLine(), modules)
                .filter(note -> requested.contains(InfoTagType.ACPI_OLD_RSDP.type())
                        || requested.contains(InfoTagType.ACPI_NEW_RSDP.type()))
                .ifPresent(all::add);
        FirmwareWords.protectedModeHandoff(ram, firmware, entry, info, Multiboot2Info.BOOTLOADER_MAGIC);
        return Handoff.protectedMode(entry, EntryState.MULTIBOOT2, all);
    }
}
