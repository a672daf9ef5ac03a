package dev.kemu.kernel;

import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.PhysRange;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;

import java.util.ArrayList;
import java.util.List;

/**
 * The kernel's reading of the Multiboot 1 information block ({@link MultibootLayout}): usable RAM from the memory
 * map, and the pages holding the block, its map and the command line (kept as BOOT).
 */
public record MultibootMemoryMap(List<PhysRange> usable, List<PhysRange> bootPages) {
    public static MultibootMemoryMap read(GuestRam ram, long info) {
        List<PhysRange> usable = new ArrayList<>();
        List<PhysRange> boot = new ArrayList<>();
        boot.add(page(info));
        int flags = ram.read32(info + MultibootLayout.MBI_FLAGS);
        if ((flags & MultibootLayout.MBI_FLAG_MMAP) != 0) {
            long at = Integer.toUnsignedLong(ram.read32(info + MultibootLayout.MBI_MMAP_ADDR));
            long end = at + Integer.toUnsignedLong(ram.read32(info + MultibootLayout.MBI_MMAP_LENGTH));
            boot.add(new PhysRange(PhysAddr.of(at & -4096), PhysAddr.of((end + 4095) & -4096), FrameType.BOOT));
            while (at < end && ram.contains(at, MultibootLayout.MMAP_ENTRY_BYTES)) {
                long base = ram.read64(at + MultibootLayout.MMAP_BASE), length = ram.read64(at + MultibootLayout.MMAP_LENGTH);
                if (ram.read32(at + MultibootLayout.MMAP_TYPE) == MultibootLayout.MMAP_TYPE_USABLE) {
                    usable.add(new PhysRange(PhysAddr.of(base), PhysAddr.of(Math.min(base + length, ram.size())), FrameType.FREE));
                }
                at += 4 + Integer.toUnsignedLong(ram.read32(at + MultibootLayout.MMAP_SIZE)); // size excludes itself
            }
        }
        if ((flags & MultibootLayout.MBI_FLAG_MODS) != 0) {
            addModules(ram, info, boot);
        }
        if ((flags & MultibootLayout.MBI_FLAG_CMDLINE) != 0) {
            boot.add(page(Integer.toUnsignedLong(ram.read32(info + MultibootLayout.MBI_CMDLINE))));
        }
        return new MultibootMemoryMap(usable, boot);
    }

    /** Boot modules and their table stay the kernel's: no frame under them is handed out. */
    private static void addModules(GuestRam ram, long info, List<PhysRange> boot) {
        long table = Integer.toUnsignedLong(ram.read32(info + MultibootLayout.MBI_MODS_ADDR));
        int count = ram.read32(info + MultibootLayout.MBI_MODS_COUNT);
        for (int i = 0; i < count && ram.contains(table + (long) i * MultibootLayout.MOD_ENTRY_BYTES,
                MultibootLayout.MOD_ENTRY_BYTES); i++) {
            long entry = table + (long) i * MultibootLayout.MOD_ENTRY_BYTES;
            long start = Integer.toUnsignedLong(ram.read32(entry + MultibootLayout.MOD_START));
            long end = Integer.toUnsignedLong(ram.read32(entry + MultibootLayout.MOD_END));
            boot.add(page(entry));
            boot.add(page(Integer.toUnsignedLong(ram.read32(entry + MultibootLayout.MOD_CMDLINE))));
            if (end > start) {
                boot.add(new PhysRange(PhysAddr.of(start & -4096), PhysAddr.of((end + 4095) & -4096), FrameType.BOOT));
            }
        }
    }

    private static PhysRange page(long address) {
        return new PhysRange(PhysAddr.of(address & -4096), PhysAddr.of((address & -4096) + 4096), FrameType.BOOT);
    }
}
