package dev.kemu.kernel;

import dev.kemu.kernel.mm.FreeResult;
import dev.kemu.kernel.mm.MapResult;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.util.Optional;

import static dev.kemu.kernel.GuestAbi.*;

/**
 * The one place where the memory services' domain results become the errno values a
 * hypercall returns (docs/ABI.md). {@code kernel.mm} and {@code kernel.slab} know nothing of
 * errno: they report an empty optional or a result enum, and this class chooses the number.
 * The switches are exhaustive, so a new result constant does not compile until it has one.
 */
final class Errno {
    private Errno() {}

    static long of(FreeResult result) {
        return switch (result) {
            case FREED -> 0;
            case IN_USE -> EBUSY;
            case NOT_PAGE_ALIGNED, OUTSIDE_RAM, DOUBLE_FREE, NOT_ALLOCATED, NOT_BLOCK_START, WRONG_ORDER, WRONG_TYPE,
                 WRONG_CACHE, NOT_AN_OBJECT, CORRUPTED -> EINVAL;
        };
    }

    static long of(MapResult result) {
        return switch (result) {
            case OK -> 0;
            case NOT_CANONICAL, MISALIGNED, OUTSIDE_RAM -> EINVAL;
            case ALREADY_MAPPED -> EEXIST;
            case NOT_MAPPED -> EFAULT;
            case OUT_OF_MEMORY -> ENOMEM;
        };
    }

    /** An allocation's address as the guest receives it, -ENOMEM when there was none. */
    static long virtualOrNoMemory(Optional<VirtAddr> address) {
        return address.isPresent() ? address.get().value() : ENOMEM;
    }

    /** The same for an allocator's raw address, 0 when there was none. */
    static long addressOrNoMemory(long address) {
        return address != 0 ? address : ENOMEM;
    }

    static long physicalOrNoMemory(Optional<PhysAddr> address) {
        return address.isPresent() ? address.get().value() : ENOMEM;
    }
}
