package dev.kemu.debug;

import dev.kemu.kernel.slab.KmemCache;
import dev.kemu.kernel.slab.SlubTrack;

import java.util.Optional;
import java.util.function.LongFunction;

/**
 * A {@code --slub-debug=U} track of one object as text: "symbol (RIP 0x..., instruction N, cpu C)". One
 * spelling for {@code whatis} and the leak report, read from the track the allocator wrote into guest RAM.
 */
public final class SlubSites {
    private SlubSites() {}

    /** The site of {@code which} ({@link SlubTrack#ALLOC} or {@link SlubTrack#FREE}); empty when the cache keeps none. */
    public static Optional<String> of(KmemCache cache, long objectPhys, int which, LongFunction<String> symbolizer) {
        return SlubTrack.of(cache, objectPhys, which)
                .map(t -> t.recorded() ? String.format("%s (RIP 0x%x, instruction %d, cpu %d)", symbolizer.apply(t.addr()),
                        t.addr(), t.when(), t.cpu()) : "never (no such call since the slab was made)");
    }
}
