package dev.kemu.testing;

import dev.kemu.boot.MemoryMapEntry;
import dev.kemu.boot.MultibootInfo;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.PageWalker;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The harness areas in a kernel's own page tables, on plain guest RAM (no boot): the reserve is cut from the
 * memory map, the mapped pages translate as the page walker (held equal to Unicorn's MMU) reads them, and an
 * entry the kernel already uses is refused with the entry named.
 */
class HarnessMapperTest {
    private static final long RAM = 4L << 20;
    private static final long PML4 = 0x10000;

    @Property(tries = 200)
    void mappedPages_translateToTheirFrames(@ForAll @LongRange(min = 0, max = (1L << 27) - 1) long page,
                                            @ForAll @IntRange(min = 1, max = 8) int pages) {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = bootedRam(arena);
            HarnessReserve reserve = HarnessReserve.carve(ram);
            long va = 0xffff_8000_0000_0000L + (page << 12);
            long phys = reserve.take(pages * 4096L);
            new HarnessMapper(ram, PML4, reserve).map(va, pages * 4096L, phys, PageTableEntry.WRITABLE);
            PageWalker walker = new PageWalker(ram);
            for (long offset = 0; offset < pages * 4096L; offset += 4096) {
                assertEquals(phys + offset + 0x123, walker.translate(PML4, va + offset + 0x123));
            }
            IllegalStateException twice = assertThrows(IllegalStateException.class,
                    () -> new HarnessMapper(ram, PML4, reserve).map(va, 4096, phys, PageTableEntry.WRITABLE));
            assertTrue(twice.getMessage().contains("PT entry") && twice.getMessage().contains("already present"),
                    twice.getMessage());
        }
    }

    @Test
    void hugePageOfTheKernel_isRefusedWithTheEntryNamed() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = bootedRam(arena);
            HarnessReserve reserve = HarnessReserve.carve(ram);
            long pdpt = 0x11000;
            ram.write64(PML4 + 511 * 8, pdpt | PageTableEntry.PRESENT | PageTableEntry.WRITABLE);
            ram.write64(pdpt + 511 * 8, PageTableEntry.PRESENT | PageTableEntry.WRITABLE | PageTableEntry.HUGE);
            IllegalStateException refused = assertThrows(IllegalStateException.class, () -> new HarnessMapper(ram, PML4,
                    reserve).map(TestMachine.CODE_VA, 4096, reserve.take(4096), PageTableEntry.WRITABLE));
            assertTrue(refused.getMessage().contains("PDPT entry 511") && refused.getMessage().contains("huge page"),
                    refused.getMessage());
        }
    }

    @Test
    void carve_leavesTheReserveOutOfTheKernelsUsableRam() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = bootedRam(arena);
            long usableBefore = usableEnd(ram);
            HarnessReserve reserve = HarnessReserve.carve(ram);
            assertEquals(usableBefore - HarnessReserve.BYTES, usableEnd(ram));
            assertEquals(usableEnd(ram), reserve.base());
            assertEquals((usableEnd(ram) - 0x100000) >> 10, Integer.toUnsignedLong(ram.read32(MultibootInfo.ADDRESS + 8)));
        }
    }

    private static GuestRam bootedRam(Arena arena) {
        GuestRam ram = new GuestRam(arena.allocate(RAM, 4096));
        MultibootInfo.write(ram, MultibootInfo.pcMemoryMap(RAM), "test");
        return ram;
    }

    private static long usableEnd(GuestRam ram) {
        return MultibootInfo.readMemoryMap(ram).stream().filter(e -> e.type() == MemoryMapEntry.USABLE)
                .mapToLong(e -> e.base() + e.length()).max().orElseThrow();
    }
}
