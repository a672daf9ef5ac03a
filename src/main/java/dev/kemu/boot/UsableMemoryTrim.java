package dev.kemu.boot;

import dev.kemu.boot.limine.LimineFeature;
import dev.kemu.boot.limine.LimineKernel;
import dev.kemu.boot.limine.LimineRequest;
import dev.kemu.machine.GuestRam;

import java.util.OptionalLong;

/**
 * Takes RAM away from the kernel before it starts, for a host that needs some of its own (the test harness): the
 * top {@code bytes} of the highest usable range of the memory map the kernel's protocol handed over, cut from that
 * map in guest RAM, so a kernel that honours its map never hands them out. For Multiboot 2 the memory map tag (and
 * the basic meminfo tag's upper memory) are edited; for Limine the memory map response's highest usable entry.
 */
public final class UsableMemoryTrim {
    private static final int MB2_MMAP = 6, MB2_MEMINFO = 4, LIMINE_USABLE = 0;

    private UsableMemoryTrim() {}

    /**
     * The base of the trimmed {@code bytes}, or empty when the map has no usable range above 1 MiB that large (or
     * the kernel asked for no memory map). Multiboot 1 is the harness's own (HarnessReserve).
     */
    public static OptionalLong trimTop(KernelBoot boot, long bytes) {
        GuestRam ram = boot.machine().ram();
        return switch (boot.loadedKernel()) {
            case LimineKernel limine -> limine(ram, limine, bytes);
            default -> boot.protocol() == BootProtocol.MULTIBOOT2
                    ? multiboot2(ram, Integer.toUnsignedLong(ram.read32(boot.symbols().address("fw_boot_info"))), bytes)
                    : OptionalLong.empty();
        };
    }

    private static OptionalLong multiboot2(GuestRam ram, long info, long bytes) {
        long end = info + Integer.toUnsignedLong(ram.read32(info)), chosen = -1, chosenEnd = 0, meminfo = -1;
        for (long tag = info + 8; tag + 8 <= end; tag += (Integer.toUnsignedLong(ram.read32(tag + 4)) + 7) & ~7L) {
            int type = ram.read32(tag);
            if (type == 0) {
                break;
            }
            if (type == MB2_MEMINFO) {
                meminfo = tag;
            }
            if (type == MB2_MMAP) {
                long entrySize = Integer.toUnsignedLong(ram.read32(tag + 8));
                long tagEnd = tag + Integer.toUnsignedLong(ram.read32(tag + 4));
                for (long e = tag + 16; e + entrySize <= tagEnd; e += entrySize) {
                    long entryEnd = ram.read64(e) + ram.read64(e + 8);
                    if (ram.read32(e + 16) == MemoryMapEntry.USABLE && entryEnd > chosenEnd && entryEnd <= ram.size()) {
                        chosen = e;
                        chosenEnd = entryEnd;
                    }
                }
            }
        }
        OptionalLong base = shorten(ram, chosen, chosenEnd, bytes);
        if (base.isPresent() && meminfo >= 0 && ram.read64(chosen) == 0x100000) {
            ram.write32(meminfo + 12, (int) ((base.getAsLong() - 0x100000) >> 10));
        }
        return base;
    }

    private static OptionalLong limine(GuestRam ram, LimineKernel kernel, long bytes) {
        var request = kernel.requests().find(LimineFeature.MEMORY_MAP);
        if (request.isEmpty()) {
            return OptionalLong.empty();
        }
        long response = ram.read64(kernel.physical(request.get().address()) + LimineRequest.RESPONSE_OFFSET)
                - LimineKernel.HHDM_OFFSET;
        long count = ram.read64(response + 8), pointers = ram.read64(response + 16) - LimineKernel.HHDM_OFFSET;
        long chosen = -1, chosenEnd = 0;
        for (long i = 0; i < count; i++) {
            long e = ram.read64(pointers + 8 * i) - LimineKernel.HHDM_OFFSET;
            long entryEnd = ram.read64(e) + ram.read64(e + 8);
            if (ram.read64(e + 16) == LIMINE_USABLE && entryEnd > chosenEnd && entryEnd <= ram.size()) {
                chosen = e;
                chosenEnd = entryEnd;
            }
        }
        return shorten(ram, chosen, chosenEnd, bytes);
    }

    /** Shortens the entry at {@code entry} (u64 base, u64 length) by {@code bytes} from its page-aligned end. */
    private static OptionalLong shorten(GuestRam ram, long entry, long entryEnd, long bytes) {
        if (entry < 0) {
            return OptionalLong.empty();
        }
        long base = ram.read64(entry), top = entryEnd & ~0xfffL;
        if (top - bytes < Math.max(base, 0x100000)) {
            return OptionalLong.empty();
        }
        ram.write64(entry + 8, top - bytes - base);
        return OptionalLong.of(top - bytes);
    }
}
