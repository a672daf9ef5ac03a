package dev.kemu.kernel.slab;

import dev.kemu.kernel.mm.KernelPanic;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cache's debug flags live in its descriptor in guest RAM, so a guest bug can set them on a cache whose slots
 * have no room for them: the debugger must refuse with a panic naming the cache, never write past the slot.
 */
class DebugFlagsInGuestRamTest {
    @Test
    void debugFlagsWithoutRoomInTheStride_panicNamingTheCache_insteadOfWritingIntoTheNeighbour() {
        try (SlubFixture slub = new SlubFixture("F")) {
            var object = slub.kmalloc(64, 0xffff_ffff_8010_0000L);
            int cache = slub.memory.root().kmallocFirstCache() + 3; // kmalloc-64
            long descriptor = KmemCache.of(slub.memory.root(), cache).phys().value();
            int flags = slub.ram.read32(descriptor + CacheLayout.FLAGS);
            slub.ram.write32(descriptor + CacheLayout.FLAGS, flags | SlubDebug.POISON | SlubDebug.TRACK);

            KernelPanic panic = assertThrows(KernelPanic.class, () -> slub.kfree(object, 0xffff_ffff_8010_0010L));
            assertTrue(panic.getMessage().contains("cache kmalloc-64") && panic.getMessage().contains("the stride is 64"),
                    panic.getMessage());
        }
    }
}
