package dev.kemu.debug;

import dev.kemu.kernel.mm.AddressSpace;
import dev.kemu.kernel.mm.AddressSpaces;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.mm.MmLayout;
import dev.kemu.kernel.mm.SpaceFault;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.PhysAddr;

import java.util.List;
import java.util.Optional;

/**
 * Which of kemu's address spaces a fault happened in, and what kemu's user-half fault handler said
 * of it. Named only when the kernel uses kemu's spaces (at least one exists), so that a kernel of its
 * own is not described in their terms.
 */
final class FaultSpace {
    private FaultSpace() {}

    /**
     * The space CR3 selects ("space 2 of 3, PML4 P0x...", counted oldest first), or "kernel address
     * space" for the kernel's own tables; with the handler's verdict when {@code cr2} (a #PF, else
     * null) lies in the user half and the handler's last fault was at its page.
     */
    static Optional<FaultReport.Space> of(Optional<KernelMemory> memory, long cr3, Long cr2) {
        if (memory.isEmpty()) {
            return Optional.empty();
        }
        AddressSpaces spaces = memory.get().spaces();
        List<AddressSpace> newestFirst = spaces.all();
        if (newestFirst.isEmpty()) {
            return Optional.empty();
        }
        PhysAddr pml4 = PhysAddr.of(cr3 & PageTableEntry.ADDRESS_MASK);
        if (pml4.equals(memory.get().root().pml4())) {
            return Optional.of(new FaultReport.Space("kernel address space", pml4.toString(), null, null, null));
        }
        int index = -1;
        for (int i = 0; i < newestFirst.size(); i++) {
            if (newestFirst.get(i).pml4().equals(pml4)) {
                index = i;
            }
        }
        if (index < 0) {
            return Optional.of(new FaultReport.Space("no address space of kemu's (CR3 " + pml4
                    + " is neither the kernel's PML4 nor a space's)", pml4.toString(), null, null, null));
        }
        AddressSpace space = newestFirst.get(index);
        String name = String.format("space %d of %d, PML4 %s", newestFirst.size() - index, newestFirst.size(), pml4);
        Optional<SpaceFault> verdict = cr2 == null || Long.compareUnsigned(cr2, MmLayout.USER_END) >= 0
                ? Optional.empty()
                : spaces.lastFault().filter(f -> f.spaceId() == space.id()
                        && (f.address().value() & -MmLayout.PAGE) == (cr2 & -MmLayout.PAGE));
        return Optional.of(new FaultReport.Space(name, pml4.toString(), space.id(),
                verdict.map(f -> f.resolution().name().toLowerCase(java.util.Locale.ROOT)).orElse(null),
                verdict.map(f -> f.resolution().description()).orElse(null)));
    }
}
