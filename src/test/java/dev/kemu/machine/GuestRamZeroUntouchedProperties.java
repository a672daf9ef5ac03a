package dev.kemu.machine;

import dev.kemu.nativelib.AnonymousMemory;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.lang.foreign.Arena;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * {@link GuestRam#zeroUntouched} reads back as {@link Arrays#fill} of the same range on a byte array, whether its
 * pages go back to the host (mmap'd RAM) or are filled (any other segment), and marks what it zeroed as dirty.
 */
class GuestRamZeroUntouchedProperties {
    private static final int SIZE = 16 * 4096;
    private static final byte GARBAGE = (byte) 0xab;

    @Property(tries = 300)
    void mmapdRam_readsAsAFillOfTheRange(@ForAll @IntRange(max = SIZE) int from, @ForAll @IntRange(max = SIZE) int to) {
        try (AnonymousMemory memory = new AnonymousMemory(SIZE)) {
            check(new GuestRam(memory), Math.min(from, to), Math.max(from, to));
        }
    }

    @Property(tries = 100)
    void otherMemory_readsAsAFillOfTheRange(@ForAll @IntRange(max = SIZE) int from, @ForAll @IntRange(max = SIZE) int to) {
        try (Arena arena = Arena.ofConfined()) {
            check(new GuestRam(arena.allocate(SIZE, 4096)), Math.min(from, to), Math.max(from, to));
        }
    }

    private static void check(GuestRam ram, int from, int to) {
        byte[] expected = new byte[SIZE];
        Arrays.fill(expected, GARBAGE);
        ram.fill(0, SIZE, GARBAGE);
        DirtyPages dirty = new DirtyPages(SIZE);
        ram.trackWrites(dirty);
        ram.zeroUntouched(from, to - from);
        Arrays.fill(expected, from, to, (byte) 0);
        assertArrayEquals(expected, ram.read(0, SIZE), "zeroed [" + from + ", " + to + ")");
        for (long page = from / 4096; from < to && page * 4096 < to; page++) {
            assertTrue(dirty.isDirty(page), "page " + page + " was zeroed but is not marked dirty");
        }
    }

    @Example
    void wholePages_areNotFaultedIn() {
        try (AnonymousMemory memory = new AnonymousMemory(SIZE)) {
            assumeFalse(memory.residentPages().get(0), "this host has swap: mincore cannot tell which pages are backed");
            GuestRam ram = new GuestRam(memory);
            ram.fill(0, SIZE, GARBAGE); // every page resident
            ram.zeroUntouched(100, 8 * 4096);
            var resident = memory.residentPages();
            for (int page = 1; page < 8; page++) {
                assertFalse(resident.get(page), "page " + page + " lies wholly in the zeroed range but is resident");
            }
            assertTrue(resident.get(0) && resident.get(8), "the partial first and last pages are filled, so resident");
        }
    }
}
