package dev.kemu.kernel.slab;

import dev.kemu.machine.GuestRam;

/** A constructor for caches created from Java: runs once on each object of every new slab. */
@FunctionalInterface
public interface ObjectConstructor {
    void construct(GuestRam ram, long objectPhys, long objectVirt, int size);
}
