package dev.kemu.kernel.slab;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

/** A constructor for caches created from Java: runs once on each object of every new slab. */
@FunctionalInterface
public interface ObjectConstructor {
    void construct(GuestRam ram, PhysAddr object, VirtAddr objectVirtual, int size);
}
