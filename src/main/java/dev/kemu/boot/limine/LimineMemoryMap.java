package dev.kemu.boot.limine;

import dev.kemu.boot.MemoryMapEntry;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The memory map a Limine-protocol kernel receives (PROTOCOL.md, "Memory Map Feature"): the PC map kemu gives every
 * kernel, with what the loader put in usable RAM carved out under Limine's own types (the kernel and modules; the
 * bootloader-reclaimable firmware stub, responses, page tables and stack). As the protocol guarantees, entries are
 * sorted by base, usable and bootloader-reclaimable entries are 4 KiB aligned and overlap nothing, and nothing
 * below 0x1000 is usable.
 */
public final class LimineMemoryMap {
    /** The entry types, with the numbers {@code struct limine_memmap_entry.type} takes. */
    public enum Type {
        USABLE, RESERVED, ACPI_RECLAIMABLE, ACPI_NVS, BAD_MEMORY, BOOTLOADER_RECLAIMABLE, KERNEL_AND_MODULES,
        FRAMEBUFFER;

        public long number() {
            return ordinal();
        }

        /** The Limine type of a Multiboot (E820) type: 1 usable, 3 ACPI reclaimable, 4 NVS, 5 bad, else reserved. */
        static Type ofE820(int type) {
            return switch (type) {
                case 1 -> USABLE;
                case 3 -> ACPI_RECLAIMABLE;
                case 4 -> ACPI_NVS;
                case 5 -> BAD_MEMORY;
                default -> RESERVED;
            };
        }
    }

    /** One entry, {@code [base, base+length)}. */
    public record Entry(long base, long length, Type type) {
        public long end() {
            return base + length;
        }

        @Override
        public String toString() {
            return String.format("[P0x%x-P0x%x) %s", base, end(), type.name().toLowerCase().replace('_', ' '));
        }
    }

    private static final long PAGE = 4096, FIRST_USABLE = 0x1000;

    private LimineMemoryMap() {}

    /** {@code pc} with each of {@code carved} (inside usable RAM) taken out of the usable entries. */
    public static List<Entry> of(List<MemoryMapEntry> pc, List<Entry> carved) {
        List<Entry> usable = new ArrayList<>(), result = new ArrayList<>();
        for (MemoryMapEntry e : pc) {
            Type type = Type.ofE820(e.type());
            (type == Type.USABLE ? usable : result).add(new Entry(e.base(), e.length(), type));
        }
        for (Entry cut : carved) {
            List<Entry> left = new ArrayList<>();
            for (Entry u : usable) {
                if (cut.end() <= u.base() || cut.base() >= u.end()) {
                    left.add(u);
                    continue;
                }
                if (u.base() < cut.base()) {
                    left.add(new Entry(u.base(), cut.base() - u.base(), Type.USABLE));
                }
                if (cut.end() < u.end()) {
                    left.add(new Entry(cut.end(), u.end() - cut.end(), Type.USABLE));
                }
            }
            usable = left;
            result.add(cut);
        }
        for (Entry u : usable) {
            long base = Math.max(FIRST_USABLE, (u.base() + PAGE - 1) & -PAGE), end = u.end() & -PAGE;
            if (end > base) {
                result.add(new Entry(base, end - base, Type.USABLE));
            }
        }
        result.removeIf(e -> e.length() == 0);
        result.sort(Comparator.comparingLong(Entry::base));
        return List.copyOf(result);
    }
}
