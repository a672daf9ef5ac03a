package dev.kemu.debug;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.PagingFormat;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Self-referencing top-level entries: where they make the tables appear, and what an address in the window shows. */
class RecursiveMappingsTest {
    private static final long P = PageTableEntry.PRESENT, W = PageTableEntry.WRITABLE;

    @Test
    void thirtyTwoBitMirroring_pdEntry1023_showsPageTablesInTheTopFourMiB() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = new GuestRam(arena.allocate(1 << 20, 4096));
            ram.write32(0x1000 + 4 * 1023, (int) (0x1000 | P | W));
            ram.write32(0x1000 + 4, (int) (0x3000 | P | W)); // a PT for V0x00400000..
            RecursiveMappings recursive = RecursiveMappings.find(ram, 0x1000, PagingFormat.BITS_32);
            assertEquals(List.of("recursive mapping: PD entry 1023 maps the page directory itself: page tables at "
                    + "V0xffc00000-V0xffffffff, the page directory at V0xfffff000"), recursive.describe());
            assertEquals(Optional.of("the page table for V0x00400000-V0x007fffff, seen through the recursive PD entry "
                    + "1023; offset 0x8 is its entry 2, for V0x00402000"), recursive.explain(0xffc0_1008L));
            assertEquals(Optional.of("the page directory itself (P0x1000), seen through the recursive PD entry 1023; "
                    + "offset 0xffc is its entry 1023, for V0xffc00000"), recursive.explain(0xffff_fffcL));
            assertEquals(Optional.empty(), recursive.explain(0xffbf_f000L));
        }
    }

    @Test
    void fourLevelRecursiveSlot_namesEveryLevelsWindow() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = new GuestRam(arena.allocate(1 << 20, 4096));
            ram.write64(0x1000 + 8 * 510, 0x1000 | P | W);
            RecursiveMappings recursive = RecursiveMappings.find(ram, 0x1000, PagingFormat.FOUR_LEVEL);
            assertEquals(List.of("recursive mapping: PML4 entry 510 maps the PML4 itself: page tables at "
                    + "V0xffffff0000000000-V0xffffff7fffffffff, page directories at V0xffffff7f80000000-V0xffffff7fbfffffff, "
                    + "PDPTs at V0xffffff7fbfc00000-V0xffffff7fbfdfffff, the PML4 at V0xffffff7fbfdfe000"),
                    recursive.describe());
            // 510, 510, then PD index 1 (PDPT index 1 of PML4 slot 0 -> V0x40000000)
            assertEquals(Optional.of("the page directory for V0x40000000-V0x7fffffff, seen through the recursive PML4 "
                    + "entry 510; offset 0x0 is its entry 0, for V0x40000000"), recursive.explain(0xffff_ff7f_8000_1000L));
        }
    }

    @Test
    void pae_hasNoRecursiveTopLevel() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = new GuestRam(arena.allocate(1 << 20, 4096));
            ram.write64(0x1000, 0x1000 | P);
            assertEquals(List.of(), RecursiveMappings.find(ram, 0x1000, PagingFormat.PAE).describe());
        }
    }
}
