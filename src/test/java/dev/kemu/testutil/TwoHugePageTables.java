package dev.kemu.testutil;

import dev.kemu.machine.Machine;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.unicorn.X86Reg;

/**
 * The smallest 4-level tables a machine test needs: PML4 at 0x10000, PDPT at 0x11000, and one 2 MiB page at
 * linear 0 (identity) and one at linear 0x40000000 (to {@code highTarget}). Loads CR3 and sets CR4.PAE; paging
 * itself (CR0.PG) is the test's to turn on.
 */
public final class TwoHugePageTables {
    public static final long PML4 = 0x10000;

    private TwoHugePageTables() {
    }

    public static void install(Machine machine, long highTarget) {
        long present = PageTableEntry.PRESENT | PageTableEntry.WRITABLE;
        machine.ram().write64(PML4, 0x11000 | present);
        machine.ram().write64(0x11000, 0x12000 | present);
        machine.ram().write64(0x11000 + 8, 0x13000 | present);
        machine.ram().write64(0x12000, present | PageTableEntry.HUGE);
        machine.ram().write64(0x13000, highTarget | present | PageTableEntry.HUGE);
        machine.setRegister(X86Reg.CR3, PML4);
        machine.setRegister(X86Reg.CR4, machine.register(X86Reg.CR4) | 0x20); // PAE
    }
}
