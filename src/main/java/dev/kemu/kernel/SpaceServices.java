package dev.kemu.kernel;

import dev.kemu.kernel.mm.AddressSpace;
import dev.kemu.kernel.mm.AddressSpaces;
import dev.kemu.kernel.mm.SpaceResult;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.util.Optional;

import static dev.kemu.kernel.GuestAbi.*;

/**
 * The hypercall face of address spaces (HC_SPACE_*, docs/ABI.md): a space is named by its PML4's
 * physical address, the value the guest loads into CR3. Arguments are checked as full 64-bit
 * registers; a handle that names no space is -EINVAL, whatever it points at.
 */
final class SpaceServices {
    private SpaceServices() {}

    static long create(AddressSpaces spaces) {
        return spaces.create().map(s -> s.pml4().value()).orElse(ENOMEM);
    }

    static long destroy(AddressSpaces spaces, long handle) {
        return space(spaces, handle).map(s -> of(spaces.destroy(s))).orElse(EINVAL);
    }

    static long clone(AddressSpaces spaces, long handle) {
        Optional<AddressSpace> parent = space(spaces, handle);
        if (parent.isEmpty()) {
            return EINVAL;
        }
        return spaces.clone(parent.get()).map(s -> s.pml4().value()).orElse(ENOMEM);
    }

    static long map(AddressSpaces spaces, long handle, long va, long size, long flags) {
        return space(spaces, handle).map(s -> of(spaces.map(s, VirtAddr.of(va), size, flags))).orElse(EINVAL);
    }

    static long unmap(AddressSpaces spaces, long handle, long va, long size) {
        return space(spaces, handle).map(s -> of(spaces.unmap(s, VirtAddr.of(va), size))).orElse(EINVAL);
    }

    static long protect(AddressSpaces spaces, long handle, long va, long size, long flags) {
        return space(spaces, handle).map(s -> of(spaces.protect(s, VirtAddr.of(va), size, flags))).orElse(EINVAL);
    }

    /** The space whose PML4 is exactly {@code handle}; CR3's flag bits are not accepted in a handle. */
    private static Optional<AddressSpace> space(AddressSpaces spaces, long handle) {
        if (handle <= 0 || (handle & 0xfff) != 0) {
            return Optional.empty();
        }
        return spaces.find(PhysAddr.of(handle));
    }

    static long of(SpaceResult result) {
        return switch (result) {
            case OK -> 0;
            case NO_SUCH_SPACE, BAD_RANGE, BAD_FLAGS -> EINVAL;
            case OVERLAPS -> EEXIST;
            case NOT_MAPPED -> EFAULT;
            case ACTIVE -> EBUSY;
            case OUT_OF_MEMORY -> ENOMEM;
        };
    }
}
