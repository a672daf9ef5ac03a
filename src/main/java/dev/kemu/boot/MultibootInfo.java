package dev.kemu.boot;

import dev.kemu.kernel.MultibootLayout;
import dev.kemu.machine.GuestRam;

import java.util.ArrayList;
import java.util.List;

/**
 * The Multiboot 1 information block kemu's firmware hands to the kernel (EBX), written
 * into guest RAM at {@link #ADDRESS}, as a loader would:
 *
 * <pre>
 *   P0x7000  multiboot_info     flags, mem_lower, mem_upper, cmdline, mods_count, mods_addr, mmap_length,
 *                               mmap_addr, boot_loader_name (88 bytes; the rest 0)
 *   P0x7060  boot loader name   "kemu 0.1.0", NUL-terminated
 *   P0x7100  mmap entries       24 bytes each
 *   P0x7400  command line       NUL-terminated, at most 3 KiB
 *   (after the kernel)          the modules and their table ({@link MultibootModules})
 * </pre>
 *
 * {@code flags} says memory, cmdline, mods (count 0 without modules, as QEMU), mmap and boot_loader_name are valid;
 * boot_device, symbols, drives, APM and VBE are not given. The fields are laid out in {@link MultibootLayout}. The memory map is laid out like a PC's (and like QEMU's for the same RAM size), so the
 * same kernel prints the same lines under both: low 639 KiB usable, the EBDA and BIOS area
 * reserved, RAM from 1 MiB usable up to the top 128 KiB, which firmware tables reserve.
 */
public final class MultibootInfo {
    public static final long ADDRESS = 0x7000;
    public static final long MMAP_ADDRESS = 0x7100;
    public static final long CMDLINE_ADDRESS = 0x7400;
    public static final int CMDLINE_MAX = 0xC00 - 1;
    public static final long LOADER_NAME_ADDRESS = 0x7060;
    /** {@code boot_loader_name}: kemu and the version {@code kemu version} prints. */
    public static final String LOADER_NAME = "kemu 0.1.0";
    /** The first byte after the block and its strings: kemu's firmware stub may start here. */
    public static final long END = 0x8000;
    private static final int FLAGS = MultibootLayout.MBI_FLAG_MEMORY | MultibootLayout.MBI_FLAG_CMDLINE
            | MultibootLayout.MBI_FLAG_MODS | MultibootLayout.MBI_FLAG_MMAP | MultibootLayout.MBI_FLAG_BOOT_LOADER_NAME;

    private MultibootInfo() {}

    /** The PC-style map for {@code ramBytes} of RAM. */
    public static List<MemoryMapEntry> pcMemoryMap(long ramBytes) {
        List<MemoryMapEntry> map = new ArrayList<>();
        map.add(new MemoryMapEntry(0, 0x9fc00, MemoryMapEntry.USABLE));
        map.add(new MemoryMapEntry(0x9fc00, 0x400, MemoryMapEntry.RESERVED));
        map.add(new MemoryMapEntry(0xf0000, 0x10000, MemoryMapEntry.RESERVED));
        long top = ramBytes - 0x20000;
        map.add(new MemoryMapEntry(0x100000, top - 0x100000, MemoryMapEntry.USABLE));
        map.add(new MemoryMapEntry(top, 0x20000, MemoryMapEntry.RESERVED));
        map.add(new MemoryMapEntry(0xfffc0000L, 0x40000, MemoryMapEntry.RESERVED));
        return map;
    }

    /** The end of the usable RAM from 1 MiB, where the kernel and its modules live. */
    public static long usableEnd(List<MemoryMapEntry> map) {
        return map.stream().filter(e -> e.type() == MemoryMapEntry.USABLE && e.base() == 0x100000)
                .mapToLong(MemoryMapEntry::end).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("memory map without usable RAM at 1 MiB: " + map));
    }

    /** The block without modules. */
    public static void write(GuestRam ram, List<MemoryMapEntry> map, String commandLine) {
        write(ram, map, commandLine, MultibootModules.Directory.none(0));
    }

    public static void write(GuestRam ram, List<MemoryMapEntry> map, String commandLine,
                             MultibootModules.Directory modules) {
        if (commandLine.length() > CMDLINE_MAX) {
            throw new IllegalArgumentException("command line longer than " + CMDLINE_MAX + " bytes");
        }
        if (MMAP_ADDRESS + (long) map.size() * MultibootLayout.MMAP_ENTRY_BYTES > CMDLINE_ADDRESS) {
            throw new IllegalArgumentException("memory map of " + map.size() + " entries does not fit the info block");
        }
        ram.fill(ADDRESS, 0x1000, (byte) 0);
        long lowerKiB = 0, upperKiB = 0;
        for (int i = 0; i < map.size(); i++) {
            MemoryMapEntry entry = map.get(i);
            long at = MMAP_ADDRESS + (long) i * MultibootLayout.MMAP_ENTRY_BYTES;
            ram.write32(at + MultibootLayout.MMAP_SIZE, MultibootLayout.MMAP_ENTRY_BYTES - 4); // the field itself not counted
            ram.write64(at + MultibootLayout.MMAP_BASE, entry.base());
            ram.write64(at + MultibootLayout.MMAP_LENGTH, entry.length());
            ram.write32(at + MultibootLayout.MMAP_TYPE, entry.type());
            if (entry.type() == MemoryMapEntry.USABLE && entry.base() == 0) {
                lowerKiB = entry.length() / 1024;
            }
            if (entry.type() == MemoryMapEntry.USABLE && entry.base() == 0x100000) {
                upperKiB = entry.length() / 1024;
            }
        }
        ram.write32(ADDRESS + MultibootLayout.MBI_FLAGS, FLAGS);
        ram.write32(ADDRESS + MultibootLayout.MBI_MEM_LOWER, (int) lowerKiB);
        ram.write32(ADDRESS + MultibootLayout.MBI_MEM_UPPER, (int) upperKiB);
        ram.write32(ADDRESS + MultibootLayout.MBI_CMDLINE, (int) CMDLINE_ADDRESS);
        ram.write32(ADDRESS + MultibootLayout.MBI_MMAP_LENGTH, map.size() * MultibootLayout.MMAP_ENTRY_BYTES);
        ram.write32(ADDRESS + MultibootLayout.MBI_MMAP_ADDR, (int) MMAP_ADDRESS);
        ram.writeCString(CMDLINE_ADDRESS, commandLine);
        ram.write32(ADDRESS + MultibootLayout.MBI_MODS_COUNT, modules.modules().size());
        ram.write32(ADDRESS + MultibootLayout.MBI_MODS_ADDR, (int) modules.table());
        ram.write32(ADDRESS + MultibootLayout.MBI_BOOT_LOADER_NAME, (int) LOADER_NAME_ADDRESS);
        ram.writeCString(LOADER_NAME_ADDRESS, LOADER_NAME);
    }

    /** Reads the memory map back from guest RAM (what the kernel sees). */
    public static List<MemoryMapEntry> readMemoryMap(GuestRam ram) {
        int length = ram.read32(ADDRESS + MultibootLayout.MBI_MMAP_LENGTH);
        long at = Integer.toUnsignedLong(ram.read32(ADDRESS + MultibootLayout.MBI_MMAP_ADDR));
        List<MemoryMapEntry> map = new ArrayList<>();
        for (long end = at + length; at < end; at += 4 + Integer.toUnsignedLong(ram.read32(at + MultibootLayout.MMAP_SIZE))) {
            map.add(new MemoryMapEntry(ram.read64(at + MultibootLayout.MMAP_BASE), ram.read64(at + MultibootLayout.MMAP_LENGTH),
                    ram.read32(at + MultibootLayout.MMAP_TYPE)));
        }
        return map;
    }
}
