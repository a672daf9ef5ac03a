package dev.kemu.kernel;

import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.PhysRange;
import dev.kemu.machine.GuestRam;

import java.util.ArrayList;
import java.util.List;

/**
 * The kernel's reading of the Multiboot 1 information block: usable RAM from the memory
 * map, and the pages holding the block, its map and the command line (kept as BOOT).
 */
public record MultibootMemoryMap(List<PhysRange> usable, List<PhysRange> bootPages) {
    private static final int FLAGS = 0, CMDLINE = 16, MMAP_LENGTH = 44, MMAP_ADDR = 48;
    private static final int FLAG_CMDLINE = 1 << 2, FLAG_MMAP = 1 << 6;

    public static MultibootMemoryMap read(GuestRam ram, long info) {
        List<PhysRange> usable = new ArrayList<>();
        List<PhysRange> boot = new ArrayList<>();
        boot.add(page(info));
        int flags = ram.read32(info + FLAGS);
        if ((flags & FLAG_MMAP) != 0) {
            long at = Integer.toUnsignedLong(ram.read32(info + MMAP_ADDR));
            long end = at + Integer.toUnsignedLong(ram.read32(info + MMAP_LENGTH));
            boot.add(new PhysRange(at & -4096, (end + 4095) & -4096, FrameType.BOOT));
            while (at < end && ram.contains(at, 24)) {
                long base = ram.read64(at + 4), length = ram.read64(at + 12);
                if (ram.read32(at + 20) == 1) {
                    usable.add(new PhysRange(base, Math.min(base + length, ram.size()), FrameType.FREE));
                }
                at += 4 + Integer.toUnsignedLong(ram.read32(at));
            }
        }
        if ((flags & FLAG_CMDLINE) != 0) {
            boot.add(page(Integer.toUnsignedLong(ram.read32(info + CMDLINE))));
        }
        return new MultibootMemoryMap(usable, boot);
    }

    private static PhysRange page(long address) {
        return new PhysRange(address & -4096, (address & -4096) + 4096, FrameType.BOOT);
    }
}
