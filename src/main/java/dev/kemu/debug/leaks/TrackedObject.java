package dev.kemu.debug.leaks;

import dev.kemu.machine.VirtAddr;

import java.util.List;

/**
 * One allocated object the scan tracks: where the guest sees it ({@code address}, a direct-map or
 * vmalloc address), its size, the cache or allocator that owns it, and the physical ranges that
 * hold its bytes (one for a slab object or page block, one per page for a vmalloc area).
 */
public record TrackedObject(LeakKind kind, VirtAddr address, long size, String owner, List<PhysicalBytes> bytes) {
    /** {@code length} bytes of guest RAM from physical {@code start}. */
    public record PhysicalBytes(long start, long length) {}

    /** The physical address of the object's first byte. */
    public long firstPhysical() {
        return bytes.getFirst().start();
    }
}
