package dev.kemu.kernel;

import dev.kemu.kernel.mm.AddressSpace;
import dev.kemu.kernel.mm.AddressSpaces;
import dev.kemu.kernel.mm.SpaceFault;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PageFaultCode;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.VirtAddr;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Plays the CPU for a ring-3 access in an address space without an emulator: walk the space's
 * tables, raise a #PF with the error code the hardware would push (P when the leaf is present,
 * W for writes, U always), let the handler resolve it, and retry, as the restarted instruction does.
 */
final class UserAccess {
    private final AddressSpaces spaces;
    private final GuestRam ram;
    /** The handler's answers, in order, for tests that check which path a fault took. */
    final List<SpaceFault.Resolution> faults = new ArrayList<>();

    UserAccess(AddressSpaces spaces, GuestRam ram) {
        this.spaces = spaces;
        this.ram = ram;
    }

    /** Reads one byte, or empty when the fault was a real error. */
    Optional<Integer> read(AddressSpace space, long va) {
        return physical(space, va, false).map(pa -> ram.read8(pa));
    }

    /** Writes one byte; false when the fault was a real error. */
    boolean write(AddressSpace space, long va, int value) {
        Optional<Long> pa = physical(space, va, true);
        pa.ifPresent(p -> ram.write8(p, value));
        return pa.isPresent();
    }

    /** What a read would see, without faulting: 0 for a page never touched. */
    int peek(AddressSpace space, long va) {
        return spaces.translate(space, VirtAddr.of(va)).map(pa -> ram.read8(pa.value())).orElse(0);
    }

    private Optional<Long> physical(AddressSpace space, long va, boolean write) {
        for (int attempt = 0; attempt < 3; attempt++) {
            Optional<PageTableEntry> leaf = spaces.tables(space).leaf(VirtAddr.of(va & -4096L));
            if (leaf.isPresent() && leaf.get().user() && (!write || leaf.get().writable())) {
                return Optional.of(leaf.get().address().value() + (va & 4095));
            }
            int code = PageFaultCode.USER | (write ? PageFaultCode.WRITE : 0) | (leaf.isPresent() ? PageFaultCode.PRESENT : 0);
            SpaceFault.Resolution resolution = spaces.handleFault(space, VirtAddr.of(va), code).resolution();
            faults.add(resolution);
            if (!resolution.resolved()) {
                return Optional.empty();
            }
        }
        throw new AssertionError("the fault at V0x" + Long.toHexString(va) + " was resolved three times and still faults");
    }
}
