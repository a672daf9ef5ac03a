package dev.kemu.debug.leaks;

import dev.kemu.debug.SlubSites;
import dev.kemu.kernel.mm.FrameTable;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.slab.KmemCache;
import dev.kemu.kernel.slab.SlubTrack;

import java.util.Optional;
import java.util.function.LongFunction;

import static dev.kemu.kernel.mm.MmLayout.PAGE;

/**
 * Allocation sites from the tracks {@code --slub-debug=U} keeps in guest RAM beside each slab object. Whole
 * pages and vmalloc areas have no track, so they answer empty, as do caches created without U.
 */
public final class SlubAllocationSites implements AllocationSites {
    private final KernelMemory memory;
    private final LongFunction<String> symbolizer;

    public SlubAllocationSites(KernelMemory memory, LongFunction<String> symbolizer) {
        this.memory = memory;
        this.symbolizer = symbolizer;
    }

    @Override
    public Optional<String> siteOf(TrackedObject object) {
        if (object.kind() != LeakKind.KMALLOC && object.kind() != LeakKind.CACHE) {
            return Optional.empty();
        }
        FrameTable frames = FrameTable.of(memory.root());
        long objectPhys = object.firstPhysical();
        int id = frames.tag(frames.headOf(objectPhys / PAGE));
        if (id < 0 || id >= KmemCache.describable(memory.root())) {
            return Optional.empty();
        }
        return SlubSites.of(KmemCache.of(memory.root(), id), objectPhys, SlubTrack.ALLOC, symbolizer);
    }
}
