package dev.kemu.testing;

import dev.kemu.boot.BootProtocol;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.MultibootInfo;
import dev.kemu.boot.UsableMemoryTrim;
import dev.kemu.kernel.MultibootLayout;
import dev.kemu.machine.GuestRam;

/**
 * RAM the test harness keeps for itself when the kernel under test has its own memory management: the
 * top {@link #BYTES} of the highest usable range of the Multiboot memory map, cut from the map in guest
 * RAM before the kernel starts, so a kernel that honours the map never hands it out. It holds the snippet
 * code and stack areas and the page tables that map them; frames are taken in order, zeroed.
 */
final class HarnessReserve {
    /** Code (64 KiB) and stack (16 KiB) areas, then up to three page tables to reach them. */
    static final long BYTES = 128 << 10;

    private final GuestRam ram;
    private final long base;
    private long next;

    private HarnessReserve(GuestRam ram, long base) {
        this.ram = ram;
        this.base = base;
        this.next = base;
    }

    long base() {
        return base;
    }

    /**
     * Shortens the highest usable memory-map entry by {@link #BYTES}: in the Multiboot information here, in the
     * Multiboot 2 or Limine map through {@link UsableMemoryTrim}.
     */
    static HarnessReserve carve(KernelBoot boot) {
        GuestRam ram = boot.machine().ram();
        if (boot.protocol() != BootProtocol.MULTIBOOT) {
            long base = UsableMemoryTrim.trimTop(boot, BYTES).orElseThrow(() -> new IllegalStateException("the "
                    + boot.protocol() + " memory map gives the test harness no room: it needs " + (BYTES >> 10)
                    + " KiB of usable RAM above 1 MiB for the snippet areas (and a Limine kernel must ask for the "
                    + "memory map); give the kernel more RAM"));
            return new HarnessReserve(ram, base);
        }
        return carve(ram);
    }

    /** The Multiboot 1 case: the information block at P0x7000, edited in place. */
    static HarnessReserve carve(GuestRam ram) {
        long info = MultibootInfo.ADDRESS;
        int length = ram.read32(info + MultibootLayout.MBI_MMAP_LENGTH);
        long at = Integer.toUnsignedLong(ram.read32(info + MultibootLayout.MBI_MMAP_ADDR));
        long chosen = -1, chosenEnd = 0;
        for (long end = at + length; at < end; at += 4 + Integer.toUnsignedLong(ram.read32(at + MultibootLayout.MMAP_SIZE))) {
            long entryEnd = ram.read64(at + MultibootLayout.MMAP_BASE) + ram.read64(at + MultibootLayout.MMAP_LENGTH);
            if (ram.read32(at + MultibootLayout.MMAP_TYPE) == MultibootLayout.MMAP_TYPE_USABLE && entryEnd > chosenEnd
                    && entryEnd <= ram.size()) {
                chosen = at;
                chosenEnd = entryEnd;
            }
        }
        long entryBase = chosen < 0 ? 0 : ram.read64(chosen + MultibootLayout.MMAP_BASE);
        long top = chosenEnd & ~0xfffL;
        if (chosen < 0 || top - BYTES < Math.max(entryBase, 0x100000)) {
            throw new IllegalStateException("guest RAM is too small for the test harness: it needs "
                    + (BYTES >> 10) + " KiB of usable RAM above 1 MiB for the snippet areas; give the kernel more RAM");
        }
        ram.write64(chosen + MultibootLayout.MMAP_LENGTH, top - BYTES - entryBase);
        if (entryBase == 0x100000) {
            ram.write32(info + MultibootLayout.MBI_MEM_UPPER, (int) ((top - BYTES - entryBase) >> 10));
        }
        return new HarnessReserve(ram, top - BYTES);
    }

    /** {@code bytes} (a multiple of 4 KiB) of zeroed, contiguous reserve; its physical address. */
    long take(long bytes) {
        if (next + bytes > base + BYTES) {
            throw new IllegalStateException("the test harness's reserve of " + (BYTES >> 10) + " KiB at P0x"
                    + Long.toHexString(base) + " is used up");
        }
        long phys = next;
        ram.fill(phys, bytes, (byte) 0);
        next += bytes;
        return phys;
    }
}
