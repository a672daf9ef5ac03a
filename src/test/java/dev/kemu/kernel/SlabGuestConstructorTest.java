package dev.kemu.kernel;

import dev.kemu.kernel.mm.FreeResult;
import dev.kemu.kernel.slab.SlabAllocator;
import dev.kemu.machine.VirtAddr;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** The allocator's half of guest constructors, without a CPU: which objects are handed out to construct, and when. */
class SlabGuestConstructorTest {
    private static final VirtAddr CTOR = VirtAddr.of(0xffff_ffff_8010_0040L);

    @Test
    void newSlab_handsOutEachObjectOnce_thenAllocationGoesOn() {
        try (MmFixture mm = new MmFixture()) {
            SlabAllocator slabs = mm.memory.slabs();
            int id = slabs.createWithGuestConstructor("ctor", 40, 8, CTOR).orElseThrow();
            assertEquals(Optional.of(CTOR), slabs.cache(id).guestConstructor());
            assertFalse(slabs.constructionPending(id), "no slab yet");

            VirtAddr first = slabs.allocate(id, false).orElseThrow();

            assertTrue(slabs.constructionPending(id));
            List<VirtAddr> handed = new ArrayList<>();
            for (Optional<VirtAddr> next = slabs.nextToConstruct(id); next.isPresent(); next = slabs.nextToConstruct(id)) {
                handed.add(next.get());
            }
            int perSlab = slabs.cache(id).objectsPerSlab();
            assertEquals(perSlab, handed.size());
            assertEquals(perSlab, new HashSet<>(handed).size(), "each object once");
            assertTrue(handed.contains(first), "the allocated object is constructed too");
            assertFalse(slabs.constructionPending(id));
            for (int i = 1; i < perSlab; i++) {
                slabs.allocate(id, false).orElseThrow();
                assertFalse(slabs.constructionPending(id), "objects of a constructed slab need nothing");
            }
            slabs.allocate(id, false).orElseThrow();
            assertTrue(slabs.constructionPending(id), "the next slab waits for its constructor calls");
            assertEquals(List.of(), mm.memory.check());
        }
    }

    @Test
    void freedObject_keepsEveryByte_becauseTheFreePointerLivesAfterIt() {
        try (MmFixture mm = new MmFixture()) {
            SlabAllocator slabs = mm.memory.slabs();
            int id = slabs.createWithGuestConstructor("ctor", 40, 8, CTOR).orElseThrow();
            VirtAddr object = slabs.allocate(id, false).orElseThrow();
            while (slabs.nextToConstruct(id).isPresent()) {
                // the guest would call its constructor here
            }
            long phys = mm.root().toPhysical(object).value();
            for (int i = 0; i < 40; i += 8) {
                mm.ram.write64(phys + i, 0x1111L * (i + 1));
            }

            assertEquals(FreeResult.FREED, slabs.free(id, object));

            for (int i = 0; i < 40; i += 8) {
                assertEquals(0x1111L * (i + 1), mm.ram.read64(phys + i), "byte " + i);
            }
            assertEquals(object, slabs.allocate(id, false).orElseThrow());
            assertEquals(0x1111L, mm.ram.read64(phys));
            assertEquals(List.of(), mm.memory.check());
        }
    }

    @Test
    void constructorOutsideTheKernelImage_isRefused() {
        try (MmFixture mm = new MmFixture()) {
            assertEquals(Optional.empty(), mm.memory.slabs().createWithGuestConstructor("low", 40, 8, VirtAddr.of(0x1000)));
            assertEquals(Optional.empty(), mm.memory.slabs().createWithGuestConstructor("hhdm", 40, 8,
                    VirtAddr.of(0xffff_8000_0010_0000L)));
        }
    }
}
