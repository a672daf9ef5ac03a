package dev.kemu.boot.limine;

import dev.kemu.boot.MultibootInfo;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The memory map against a byte-set reference: every page of the PC map's usable RAM ends up either usable or in
 * exactly the carved range that covers it, and the protocol's guarantees hold (sorted, usable and reclaimable entries
 * page-aligned and disjoint, nothing usable below 0x1000).
 */
class LimineMemoryMapTest {
    private static final long PAGE = 4096, RAM = 8L << 20; // small, so the page-by-page reference stays fast

    @Property(tries = 50)
    void carvedMap_keepsTheGuarantees_andLosesNoUsablePage(@ForAll @IntRange(min = 0x100, max = 0x600) int kernelPage,
                                                          @ForAll @IntRange(min = 1, max = 0x200) int kernelPages,
                                                          @ForAll @IntRange(min = 1, max = 0x100) int reclaimPages) {
        long kernel = (long) kernelPage * PAGE, kernelEnd = kernel + kernelPages * PAGE;
        long reclaimEnd = kernelEnd + reclaimPages * PAGE;
        var pc = MultibootInfo.pcMemoryMap(RAM);
        // The loader carves only from usable RAM below the reserved top, as LimineKernel does.
        net.jqwik.api.Assume.that(reclaimEnd <= MultibootInfo.usableEnd(pc));
        List<LimineMemoryMap.Entry> carved = List.of(
                new LimineMemoryMap.Entry(0x8000, 0x5000, LimineMemoryMap.Type.BOOTLOADER_RECLAIMABLE),
                new LimineMemoryMap.Entry(kernel, kernelEnd - kernel, LimineMemoryMap.Type.KERNEL_AND_MODULES),
                new LimineMemoryMap.Entry(kernelEnd, reclaimEnd - kernelEnd,
                        LimineMemoryMap.Type.BOOTLOADER_RECLAIMABLE));
        List<LimineMemoryMap.Entry> map = LimineMemoryMap.of(pc, carved);
        for (int i = 1; i < map.size(); i++) {
            assertTrue(map.get(i - 1).base() < map.get(i).base(), map.toString());
        }
        List<LimineMemoryMap.Entry> exclusive = new ArrayList<>();
        for (LimineMemoryMap.Entry e : map) {
            if (e.type() == LimineMemoryMap.Type.USABLE || e.type() == LimineMemoryMap.Type.BOOTLOADER_RECLAIMABLE) {
                assertEquals(0, (e.base() | e.length()) % PAGE, e.toString());
                exclusive.add(e);
            }
            assertTrue(e.type() != LimineMemoryMap.Type.USABLE || e.base() >= 0x1000, e.toString());
        }
        for (LimineMemoryMap.Entry a : exclusive) {
            for (LimineMemoryMap.Entry b : map) {
                assertTrue(a == b || a.end() <= b.base() || b.end() <= a.base(), a + " overlaps " + b);
            }
        }
        // Reference: each page of the PC map's usable RAM from 0x1000, by the carve that covers it.
        for (var usable : pc.stream().filter(e -> e.type() == 1).toList()) {
            for (long page = Math.max(0x1000, (usable.base() + PAGE - 1) & -PAGE); page + PAGE <= usable.end();
                 page += PAGE) {
                long at = page;
                LimineMemoryMap.Type expected = carved.stream().filter(c -> c.base() <= at && at < c.end())
                        .map(LimineMemoryMap.Entry::type).findFirst().orElse(LimineMemoryMap.Type.USABLE);
                long covering = map.stream().filter(e -> e.base() <= at && at < e.end() && e.type() == expected).count();
                assertEquals(1, covering, "page P0x" + Long.toHexString(at) + " as " + expected + " in " + map);
            }
        }
    }
}
