package dev.kemu.kernel.slab;

import dev.kemu.kernel.MmFixture;
import dev.kemu.kernel.mm.FreeResult;
import dev.kemu.kernel.mm.Gfp;
import dev.kemu.kernel.mm.Zone;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 16/17: kmalloc with GFP zone modifiers takes objects from per-zone caches whose slabs lie in that zone. */
class KmallocZonesTest {

    @Test
    void gfpDma_objectsComeFromDmaKmallocCachesInZoneDma_evenWhenLowMemoryIsTaken() {
        try (MmFixture f = new MmFixture(64L << 20)) {
            Kmalloc kmalloc = f.memory.kmalloc();
            // Use up most of ZONE_DMA with plain allocations first (they may come from any zone).
            List<VirtAddr> plain = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                plain.add(kmalloc.allocate(2048, false).orElseThrow());
            }
            VirtAddr dma = kmalloc.allocate(24, new Gfp(Gfp.DMA)).orElseThrow();
            PhysAddr phys = f.root().physicalOf(dma).orElseThrow();

            assertEquals(Zone.DMA, Zone.of(phys));
            int owner = f.memory.slabs().owner(phys).orElseThrow();
            assertEquals("dma-kmalloc-32", f.memory.slabs().cache(owner).name());
            assertEquals(CacheLayout.ZONE_DMA, f.memory.slabs().cache(owner).zone());
            assertTrue(f.memory.slabs().info().stream().anyMatch(row -> row.name().equals("dma-kmalloc-32")));

            VirtAddr again = kmalloc.allocate(30, new Gfp(Gfp.DMA | Gfp.ZERO)).orElseThrow();
            assertEquals(owner, f.memory.slabs().owner(f.root().physicalOf(again).orElseThrow()).orElseThrow(),
                    "one dma-kmalloc-32 cache, not one per call");
            assertEquals(0, f.ram.read64(f.root().physicalOf(again).orElseThrow().value()));
            VirtAddr normal = kmalloc.allocate(24, false).orElseThrow();
            assertTrue(f.memory.slabs().owner(f.root().physicalOf(normal).orElseThrow()).orElseThrow() != owner,
                    "plain and DMA objects never share a cache");

            assertEquals(FreeResult.FREED, kmalloc.free(dma));
            assertEquals(FreeResult.FREED, kmalloc.free(again));
            assertEquals(FreeResult.DOUBLE_FREE, kmalloc.free(dma));
            assertEquals(List.of(), SlabChecker.check(f.root()));
        }
    }

    @Test
    void gfpDma_failsOnceZoneDmaIsFull_whilePlainKmallocStillSucceeds() {
        try (MmFixture f = new MmFixture(64L << 20)) {
            Kmalloc kmalloc = f.memory.kmalloc();
            // Take every DMA frame: plain page allocations until none of them is below 16 MiB any more.
            List<VirtAddr> pages = new ArrayList<>();
            int dmaFreeAtStart = (int) (16L << 20) / 4096;
            for (int i = 0; i < dmaFreeAtStart + 64; i++) {
                pages.add(kmalloc.allocate(4096, false).orElseThrow());
            }
            long inDma = pages.stream().filter(p -> Zone.of(f.root().physicalOf(p).orElseThrow()) == Zone.DMA).count();
            assertTrue(inDma > 0, "plain requests used ZONE_DMA too: " + inDma);
            while (kmalloc.allocate(4096, new Gfp(Gfp.DMA)).isPresent()) {
                // drain what is left of ZONE_DMA
            }

            assertTrue(kmalloc.allocate(24, new Gfp(Gfp.DMA)).isEmpty(), "no DMA frame left for a dma-kmalloc slab");
            VirtAddr plain = kmalloc.allocate(24, false).orElseThrow();
            assertTrue(Zone.of(f.root().physicalOf(plain).orElseThrow()) != Zone.DMA);
            assertEquals(List.of(), SlabChecker.check(f.root()));
        }
    }

    @Test
    void gfpDma_largeRequestsTakePagesFromZoneDma() {
        try (MmFixture f = new MmFixture(64L << 20)) {
            VirtAddr pages = f.memory.kmalloc().allocate(10_000, new Gfp(Gfp.DMA)).orElseThrow();
            assertEquals(Zone.DMA, Zone.of(f.root().physicalOf(pages).orElseThrow()));
            VirtAddr dma32 = f.memory.kmalloc().allocate(100, new Gfp(Gfp.DMA32 | Gfp.ATOMIC)).orElseThrow();
            int owner = f.memory.slabs().owner(f.root().physicalOf(dma32).orElseThrow()).orElseThrow();
            assertEquals("dma32-kmalloc-128", f.memory.slabs().cache(owner).name());
            assertEquals(FreeResult.FREED, f.memory.kmalloc().free(pages));
            assertEquals(FreeResult.FREED, f.memory.kmalloc().free(dma32));
        }
    }

    @Test
    void bothZoneModifiers_areTheCallersBug() {
        try (MmFixture f = new MmFixture()) {
            assertThrows(IllegalArgumentException.class,
                    () -> f.memory.kmalloc().allocate(8, new Gfp(Gfp.DMA | Gfp.DMA32)));
        }
    }
}
