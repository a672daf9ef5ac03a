package dev.kemu.kernel;

import dev.kemu.kernel.mm.FreeResult;
import dev.kemu.kernel.mm.MmLayout;
import dev.kemu.kernel.slab.CacheLayout;
import dev.kemu.kernel.slab.Kmalloc;
import dev.kemu.kernel.slab.SlabAllocator;
import dev.kemu.kernel.slab.SlabInfo;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KmallocTest {
    record Op(boolean alloc, int size, int pick) {}

    @Provide
    Arbitrary<List<Op>> operations() {
        Arbitrary<Integer> sizes = Arbitraries.oneOf(Arbitraries.integers().between(0, 64),
                Arbitraries.integers().between(65, 2048), Arbitraries.integers().between(2049, 20000));
        return Arbitraries.integers().between(0, 99).flatMap(kind -> sizes.flatMap(size ->
                Arbitraries.integers().between(0, 10_000).map(pick -> new Op(kind < 60, size, pick))))
                .list().ofMinSize(1).ofMaxSize(400);
    }

    /** A live allocation and the byte pattern written into it. */
    record Live(long address, long size, byte pattern) {}

    @Property(tries = 60)
    void randomKmallocKfree_objectsAreDisjointAlignedAndIntact_andFreeingAllRestoresTheFrames(
            @ForAll("operations") List<Op> ops) {
        try (MmFixture mm = new MmFixture()) {
            Kmalloc kmalloc = mm.memory.kmalloc();
            List<String> initial = mm.frameState();
            List<Live> live = new ArrayList<>();
            byte pattern = 1;
            for (Op op : ops) {
                if (op.alloc()) {
                    long address = kmalloc.allocate(op.size(), op.pick() % 2 == 0).map(VirtAddr::value).orElse(0L);
                    if (op.size() == 0) {
                        assertEquals(CacheLayout.ZERO_SIZE_PTR, address);
                        continue;
                    }
                    assertNotEquals(0, address, "16 MiB is enough for this test");
                    long usable = kmalloc.usableSize(VirtAddr.of(address)).orElseThrow();
                    assertTrue(usable >= op.size());
                    long alignment = Math.min(Long.highestOneBit(usable), MmLayout.PAGE);
                    assertEquals(0, address % alignment, "kmalloc-" + usable + " alignment");
                    long phys = mm.root().toPhysical(VirtAddr.of(address)).value();
                    for (Live other : live) {
                        long otherPhys = mm.root().toPhysical(VirtAddr.of(other.address())).value();
                        assertTrue(phys + usable <= otherPhys || otherPhys + other.size() <= phys, "objects overlap");
                    }
                    mm.ram.fill(phys, op.size(), pattern);
                    live.add(new Live(address, op.size(), pattern++));
                } else if (!live.isEmpty()) {
                    Live freed = live.remove(op.pick() % live.size());
                    long phys = mm.root().toPhysical(VirtAddr.of(freed.address())).value();
                    for (long i = 0; i < freed.size(); i += 7) {
                        assertEquals(freed.pattern(), (byte) mm.ram.read8(phys + i), "object contents survived");
                    }
                    assertEquals(FreeResult.FREED, kmalloc.free(VirtAddr.of(freed.address())));
                }
            }
            assertEquals(List.of(), mm.memory.check());
            live.forEach(l -> assertEquals(FreeResult.FREED, kmalloc.free(VirtAddr.of(l.address()))));
            SlabAllocator slabs = mm.memory.slabs();
            for (SlabInfo info : slabs.info()) {
                assertEquals(info.name().equals("vm_area") ? 1 : 0, info.activeObjects(), info.name());
            }
            for (int id = 0; id < mm.root().cacheCapacity(); id++) {
                if (slabs.isActive(id) && !slabs.cache(id).name().equals("vm_area")) {
                    slabs.shrink(id);
                }
            }
            assertEquals(initial, mm.frameState());
            assertEquals(List.of(), mm.memory.check());
        }
    }

    @Test
    void invalidFrees_areDetected_andLeaveGuestRamUntouched() {
        try (MmFixture mm = new MmFixture()) {
            Kmalloc kmalloc = mm.memory.kmalloc();
            long a = kmalloc.allocate(40, false).orElseThrow().value();
            long b = kmalloc.allocate(40, false).orElseThrow().value();
            long big = kmalloc.allocate(10_000, false).orElseThrow().value();
            assertEquals(FreeResult.FREED, kmalloc.free(VirtAddr.of(b)));
            byte[] before = mm.snapshot();
            assertEquals(FreeResult.DOUBLE_FREE, kmalloc.free(VirtAddr.of(b)));
            assertEquals(FreeResult.NOT_AN_OBJECT, kmalloc.free(VirtAddr.of(a + 8)));
            assertEquals(FreeResult.NOT_BLOCK_START, kmalloc.free(VirtAddr.of(big + 4096)));
            assertEquals(FreeResult.NOT_ALLOCATED, kmalloc.free(VirtAddr.of(0x1234_5678L)));
            assertEquals(FreeResult.NOT_ALLOCATED, kmalloc.free(mm.root().toVirtual(PhysAddr.of(MmFixture.ROOT))));
            int cache = mm.memory.slabs().create("things", 40, 8, null).orElseThrow();
            before = mm.snapshot();
            assertEquals(FreeResult.WRONG_CACHE, mm.memory.slabs().free(cache, VirtAddr.of(a)));
            assertTrue(mm.unchangedSince(before), "rejected frees wrote to guest RAM");
            assertEquals(FreeResult.FREED, kmalloc.free(VirtAddr.of(big)));
            assertEquals(FreeResult.DOUBLE_FREE, kmalloc.free(VirtAddr.of(big)));
            assertEquals(List.of(), mm.memory.check());
        }
    }

    @Test
    void cacheWithJavaConstructor_runsItOncePerNewObject() {
        try (MmFixture mm = new MmFixture()) {
            SlabAllocator slabs = mm.memory.slabs();
            int[] constructed = {0};
            int id = slabs.create("task", 200, 64, (ram, phys, virt, size) -> {
                constructed[0]++;
                ram.write64(phys.value() + 8, 0xC0FFEE);
            }).orElseThrow();
            long object = slabs.allocate(id, false).orElseThrow().value();
            assertEquals(0, object % 64);
            assertEquals(0xC0FFEE, mm.ram.read64(mm.root().toPhysical(VirtAddr.of(object)).value() + 8));
            assertEquals(slabs.cache(id).objectsPerSlab(), constructed[0]);
            assertEquals(FreeResult.FREED, slabs.free(id, VirtAddr.of(object)));
            assertEquals(FreeResult.FREED, slabs.destroy(id));
        }
    }

    @Test
    void destroy_refusesWhileObjectsLive_thenReleasesEverything() {
        try (MmFixture mm = new MmFixture()) {
            SlabAllocator slabs = mm.memory.slabs();
            List<String> initial = mm.frameState();
            int id = slabs.create("inode", 600, 8, null).orElseThrow();
            long object = slabs.allocate(id, true).orElseThrow().value();
            assertEquals(FreeResult.IN_USE, slabs.destroy(id));
            slabs.free(id, VirtAddr.of(object));
            assertEquals(FreeResult.FREED, slabs.destroy(id));
            assertTrue(!slabs.isActive(id));
            assertEquals(initial, mm.frameState());
        }
    }

    @Test
    void slabInfo_countsObjectsAndSlabs() {
        try (MmFixture mm = new MmFixture()) {
            Kmalloc kmalloc = mm.memory.kmalloc();
            for (int i = 0; i < 100; i++) {
                kmalloc.allocate(100, false);
            }
            SlabInfo row = mm.memory.slabs().info().stream().filter(r -> r.name().equals("kmalloc-128")).findFirst()
                    .orElseThrow();
            assertEquals(100, row.activeObjects());
            assertEquals(128, row.objectSize());
            assertEquals(row.slabs() * (long) row.objectsPerSlab(), row.totalObjects());
            assertTrue(SlabInfo.table(mm.memory.slabs().info()).contains("kmalloc-128"));
        }
    }

    @Test
    void outOfMemory_returnsEmpty_andTheAllocatorStaysUsable() {
        try (MmFixture mm = new MmFixture(4L << 20)) {
            Kmalloc kmalloc = mm.memory.kmalloc();
            List<Long> all = new ArrayList<>();
            for (Optional<VirtAddr> a; (a = kmalloc.allocate(1000, false)).isPresent(); ) {
                all.add(a.get().value());
            }
            assertEquals(Optional.empty(), kmalloc.allocate(64, false));
            assertEquals(Optional.empty(), kmalloc.allocate(1 << 20, false));
            all.forEach(a -> assertEquals(FreeResult.FREED, kmalloc.free(VirtAddr.of(a))));
            assertTrue(kmalloc.allocate(1 << 20, false).isPresent());
            assertEquals(List.of(), mm.memory.check());
        }
    }
}
