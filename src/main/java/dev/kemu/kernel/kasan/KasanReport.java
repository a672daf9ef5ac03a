package dev.kemu.kernel.kasan;

import java.util.List;

/**
 * One bad access caught at the faulting instruction under --kasan, with the fields tests assert
 * and the report's lines in the shape of Linux's mm/kasan/report.c.
 *
 * @param kind      {@code slab-use-after-free}, {@code slab-out-of-bounds} or {@code vmalloc-out-of-bounds}
 * @param address   the accessed virtual address (direct-map address for slab memory)
 * @param size      bytes accessed
 * @param cpu       the CPU that made the access (its index, cpu0 the bootstrap CPU)
 * @param symbol    the faulting instruction, symbolized
 * @param region    the cache name, or {@code vmalloc} for a vmalloc area
 * @param object    the start of the object or area the access is described against
 * @param offset    {@code address - object}: below the object size means inside it
 * @param allocSite the allocating caller, or empty when not recorded
 * @param freeSite  the freeing caller, or empty when not recorded (or never freed)
 */
public record KasanReport(String kind, boolean write, long address, int size, long rip, int cpu, String symbol, String region,
                          long object, int objectSize, long offset, String allocSite, String freeSite, List<String> lines) {
    public KasanReport {
        lines = List.copyOf(lines);
    }

    public String text() {
        return String.join("\n", lines);
    }
}
