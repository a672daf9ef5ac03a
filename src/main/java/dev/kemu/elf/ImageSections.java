package dev.kemu.elf;

import net.fornwall.jelf.ElfFile;
import net.fornwall.jelf.ElfSection;
import net.fornwall.jelf.ElfSectionHeader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The sections an image occupies in memory (SHF_ALLOC: .text, .rodata, .data, .bss, ...), by virtual address. */
public final class ImageSections {
    /** One allocated section: {@code [address, address + size)}. */
    public record Section(String name, long address, long size) {
        public boolean contains(long va) {
            return Long.compareUnsigned(va - address, size) < 0;
        }
    }

    private final List<Section> sections;

    private ImageSections(List<Section> sections) {
        this.sections = List.copyOf(sections);
    }

    public static ImageSections none() {
        return new ImageSections(List.of());
    }

    /** The allocated sections of the ELF file at {@code path}; none when it has no section headers. */
    public static ImageSections read(Path path) {
        try {
            return of(ElfFile.from(Files.readAllBytes(path)));
        } catch (IOException e) {
            throw new ElfFormatException(path + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new ElfFormatException(path + ": malformed section headers: " + e, e);
        }
    }

    static ImageSections of(ElfFile elf) {
        List<Section> sections = new ArrayList<>();
        if (elf.e_shoff == 0) {
            return new ImageSections(sections);
        }
        for (int i = 1; i < Short.toUnsignedInt(elf.e_shnum); i++) {
            ElfSection section = elf.getSection(i);
            ElfSectionHeader header = section.header;
            if ((header.sh_flags & ElfSectionHeader.FLAG_ALLOC) != 0 && header.sh_size > 0) {
                sections.add(new Section(header.getName(), header.sh_addr, header.sh_size));
            }
        }
        return new ImageSections(sections);
    }

    public List<Section> sections() {
        return sections;
    }

    /** The section holding {@code va}, if any. */
    public Optional<Section> containing(long va) {
        return sections.stream().filter(s -> s.contains(va)).findFirst();
    }
}
