package dev.kemu.boot.multiboot2;

import dev.kemu.boot.AcpiRsdp;
import dev.kemu.boot.MemoryMapEntry;
import dev.kemu.boot.MultibootInfo;
import dev.kemu.boot.MultibootModules;
import dev.kemu.elf.ElfFormatException;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * The Multiboot 2 information structure (specification 2.0, section 3.6) kemu hands over in EBX: a fixed part and
 * tags, each 8-byte aligned, in the order GRUB 2 writes them.
 *
 * <pre>
 *   +0   u32 total_size, u32 reserved (0)
 *   +8   tag 1  command line       u32 type, u32 size, "text\0"
 *        tag 2  boot loader name   "kemu 0.1.0\0"
 *        tag 3  module (each)      u32 mod_start, u32 mod_end, "cmdline\0"
 *        tag 4  basic meminfo      u32 mem_lower, u32 mem_upper (KiB below 640 KiB / from 1 MiB)
 *        tag 6  memory map         u32 entry_size (24), u32 entry_version (0), entries: u64 base, u64 length,
 *                                  u32 type, u32 reserved
 *        tag 14/15 ACPI RSDP       a copy of the RSDP (when the platform has one, see AcpiRsdp)
 *        tag 0  end                size 8
 * </pre>
 */
public final class Multiboot2Info {
    public static final int BOOTLOADER_MAGIC = 0x36d76289;
    private static final int MMAP_ENTRY_BYTES = 24;

    private Multiboot2Info() {}

    /**
     * Writes the structure at {@code at} (8-byte aligned), ending at or below {@code limit}; returns the note on
     * what is not answered (the ACPI tags while the platform has no RSDP).
     */
    public static Optional<String> write(GuestRam ram, long at, long limit, List<MemoryMapEntry> map,
                                         String commandLine, MultibootModules.Directory modules) {
        Writer w = new Writer(ram, at, limit);
        w.at += 8;
        w.stringTag(InfoTagType.COMMAND_LINE, commandLine);
        w.stringTag(InfoTagType.BOOT_LOADER_NAME, MultibootInfo.LOADER_NAME);
        for (MultibootModules.Loaded module : modules.modules()) {
            byte[] line = module.module().commandLine().getBytes(StandardCharsets.UTF_8);
            long tag = w.begin(InfoTagType.MODULE, 8 + line.length + 1);
            ram.write32(tag + 8, (int) module.start());
            ram.write32(tag + 12, (int) module.end());
            ram.write(tag + 16, line);
            ram.write8(tag + 16 + line.length, 0);
        }
        long lower = 0, upper = 0;
        for (MemoryMapEntry e : map) {
            lower = e.type() == MemoryMapEntry.USABLE && e.base() == 0 ? e.length() / 1024 : lower;
            upper = e.type() == MemoryMapEntry.USABLE && e.base() == 0x100000 ? e.length() / 1024 : upper;
        }
        long meminfo = w.begin(InfoTagType.BASIC_MEMINFO, 8);
        ram.write32(meminfo + 8, (int) lower);
        ram.write32(meminfo + 12, (int) upper);
        long mmap = w.begin(InfoTagType.MEMORY_MAP, 8 + map.size() * MMAP_ENTRY_BYTES);
        ram.write32(mmap + 8, MMAP_ENTRY_BYTES);
        ram.write32(mmap + 12, 0);
        for (int i = 0; i < map.size(); i++) {
            long entry = mmap + 16 + (long) i * MMAP_ENTRY_BYTES;
            ram.write64(entry, map.get(i).base());
            ram.write64(entry + 8, map.get(i).length());
            ram.write32(entry + 16, map.get(i).type());
            ram.write32(entry + 20, 0);
        }
        Optional<PhysAddr> rsdp = AcpiRsdp.rsdpAddress(ram);
        rsdp.ifPresent(address -> {
            int length = AcpiRsdp.length(ram, address);
            InfoTagType type = AcpiRsdp.revision(ram, address) == 0 ? InfoTagType.ACPI_OLD_RSDP : InfoTagType.ACPI_NEW_RSDP;
            long tag = w.begin(type, length);
            ram.write(tag + 8, ram.read(address.value(), length));
        });
        w.begin(InfoTagType.END, 0);
        ram.write32(at, (int) (w.at - at));
        ram.write32(at + 4, 0);
        return rsdp.isPresent() ? Optional.empty() : Optional.of("the Multiboot 2 header asks for the ACPI RSDP "
                + "tags (14, 15); guest RAM holds no valid RSDP where kemu's firmware puts it, so the kernel gets neither");
    }

    /** A cursor over the tags, each started 8-byte aligned. */
    private static final class Writer {
        private final GuestRam ram;
        private final long limit;
        private long at;

        Writer(GuestRam ram, long at, long limit) {
            this.ram = ram;
            this.at = at;
            this.limit = limit;
        }

        /** Starts a tag with {@code body} bytes after its 8-byte header; returns where the tag is. */
        long begin(InfoTagType type, long body) {
            long tag = at, size = 8 + body;
            if (tag + size > limit) {
                throw new ElfFormatException(String.format("the Multiboot 2 information does not fit: tag %s would "
                        + "end at P0x%x, past usable guest RAM at P0x%x; give the guest more RAM (--ram)",
                        InfoTagType.describe(type.type()), tag + size, limit));
            }
            ram.fill(tag, (size + 7) & ~7L, (byte) 0);
            ram.write32(tag, type.type());
            ram.write32(tag + 4, (int) size);
            at = tag + ((size + 7) & ~7L);
            return tag;
        }

        void stringTag(InfoTagType type, String text) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            long tag = begin(type, bytes.length + 1);
            ram.write(tag + 8, bytes);
        }
    }
}
