package dev.kemu.machine;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The walker against hand-built tables in plain memory, no emulator involved. */
class PageWalkerTest {
    private static final long PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, PT = 0x4000;

    private static GuestRam ramWithTables(Arena arena) {
        GuestRam ram = new GuestRam(arena.allocate(1 << 20, 4096));
        long rw = PageTableEntry.PRESENT | PageTableEntry.WRITABLE;
        ram.write64(PML4 + 8 * 0, PDPT | rw | PageTableEntry.USER);
        ram.write64(PDPT + 8 * 0, PD | rw | PageTableEntry.USER);
        ram.write64(PD + 8 * 0, PT | rw | PageTableEntry.USER);
        ram.write64(PT + 8 * 5, 0x9000 | PageTableEntry.PRESENT | PageTableEntry.USER | PageTableEntry.NO_EXECUTE);
        ram.write64(PD + 8 * 1, 0x200000 | rw | PageTableEntry.HUGE);
        return ram;
    }

    @Test
    void walk_4KiBPage_translatesAndCombinesPermissions() {
        try (Arena arena = Arena.ofConfined()) {
            PageWalk walk = new PageWalker(ramWithTables(arena)).walk(PML4, VirtAddr.of(0x5123));
            assertEquals(PhysAddr.of(0x9123), walk.physical().orElseThrow());
            assertEquals(4, walk.levels().size());
            assertEquals(0x1000, walk.pageSize());
            assertFalse(walk.writable(), "PT entry is read-only");
            assertTrue(walk.user());
            assertFalse(walk.executable());
        }
    }

    @Test
    void walk_2MiBPage_stopsAtPdWithHugeFrame() {
        try (Arena arena = Arena.ofConfined()) {
            PageWalk walk = new PageWalker(ramWithTables(arena)).walk(PML4, VirtAddr.of(0x212345));
            assertEquals(PhysAddr.of(0x212345), walk.physical().orElseThrow());
            assertEquals(3, walk.levels().size());
            assertEquals(2 << 20, walk.pageSize());
            assertFalse(walk.user(), "PD entry is supervisor");
        }
    }

    @Test
    void walk_missingEntry_namesTheLevelAndIndex() {
        try (Arena arena = Arena.ofConfined()) {
            PageWalk walk = new PageWalker(ramWithTables(arena)).walk(PML4, VirtAddr.of(0x6000));
            assertFalse(walk.mapped());
            assertEquals("PT entry 6 not present", walk.stopReason());
            PageWalk high = new PageWalker(ramWithTables(arena)).walk(PML4, VirtAddr.of(0x0000_7f00_0000_0000L));
            assertEquals("PML4 entry 254 not present", high.stopReason());
        }
    }

    @Test
    void walk_nonCanonical_stopsBeforeReadingTables() {
        try (Arena arena = Arena.ofConfined()) {
            PageWalk walk = new PageWalker(ramWithTables(arena)).walk(PML4, VirtAddr.of(0x0000_8000_0000_0000L));
            assertTrue(walk.levels().isEmpty());
            assertTrue(walk.stopReason().startsWith("non-canonical"));
        }
    }

    @Test
    void describe_listsEveryLevelWithEntryAddressAndFlags() {
        try (Arena arena = Arena.ofConfined()) {
            String text = new PageWalker(ramWithTables(arena)).walk(PML4, VirtAddr.of(0x5123)).describe();
            assertTrue(text.contains("PT   P0x4000[   5] @ P0x4028 = 0x8000000000009005 [P RO U NX]"), text);
            assertTrue(text.contains("-> P0x9123 (4 KiB page, read-only, user, no-execute)"), text);
        }
    }

    @Test
    void translateAndWalk_psBitInPml4Entry_bothRefuseIt() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = ramWithTables(arena);
            // PML4[1] with PS set: reserved on x86-64 (a #PF with RSVD), not a 512 GiB page nor a table.
            ram.write64(PML4 + 8, PDPT | PageTableEntry.PRESENT | PageTableEntry.WRITABLE | PageTableEntry.HUGE);
            ram.write64(PDPT + 8 * 0, PD | PageTableEntry.PRESENT | PageTableEntry.WRITABLE);
            long va = 1L << 39 | 0x5123;
            PageWalker walker = new PageWalker(ram);
            assertEquals(-1, walker.translate(PML4, va), "translate must not follow a PML4 entry with PS");
            PageWalk walk = walker.walk(PML4, VirtAddr.of(va));
            assertFalse(walk.mapped());
            assertTrue(walk.stopReason().startsWith("PS bit set in a PML4 entry (reserved)"), walk.stopReason());
        }
    }
}
