package dev.kemu.testing;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PageTableEntry;

/**
 * Maps the snippet areas into a kernel's own 4-level page tables (the CR3 at the snapshot point) when the
 * kernel does not use kemu's memory services: missing tables come from the {@link HarnessReserve}, and an
 * entry the kernel already uses for something else is refused with the facts, never overwritten.
 */
final class HarnessMapper {
    private static final long TABLE_BYTES = 4096;
    private static final String[] LEVELS = {"PML4", "PDPT", "PD", "PT"};

    private final GuestRam ram;
    private final long pml4;
    private final HarnessReserve reserve;

    HarnessMapper(GuestRam ram, long cr3, HarnessReserve reserve) {
        this.ram = ram;
        this.pml4 = cr3 & PageTableEntry.ADDRESS_MASK;
        this.reserve = reserve;
    }

    /** Maps {@code size} bytes at {@code va} to the contiguous frames at {@code phys}, 4 KiB pages. */
    void map(long va, long size, long phys, long leafFlags) {
        for (long offset = 0; offset < size; offset += 4096) {
            long table = pml4;
            for (int level = 0; level < 3; level++) {
                table = nextTable(table, level, va + offset);
            }
            long slot = table + index(va + offset, 3) * 8;
            if ((ram.read64(slot) & PageTableEntry.PRESENT) != 0) {
                throw refusal(va + offset, 3, slot, "is already present: the kernel maps that page itself");
            }
            ram.write64(slot, (phys + offset) | PageTableEntry.PRESENT | leafFlags);
        }
    }

    private long nextTable(long table, int level, long va) {
        long slot = table + index(va, level) * 8;
        long entry = ram.read64(slot);
        if ((entry & PageTableEntry.PRESENT) == 0) {
            long fresh = reserve.take(TABLE_BYTES);
            ram.write64(slot, fresh | PageTableEntry.PRESENT | PageTableEntry.WRITABLE);
            return fresh;
        }
        if ((entry & PageTableEntry.HUGE) != 0) {
            throw refusal(va, level, slot, "maps a huge page there");
        }
        if ((entry & PageTableEntry.WRITABLE) == 0 || (entry & PageTableEntry.NO_EXECUTE) != 0) {
            throw refusal(va, level, slot, String.format("(0x%x) is read-only or no-execute", entry));
        }
        return entry & PageTableEntry.ADDRESS_MASK;
    }

    private static long index(long va, int level) {
        return (va >>> (39 - 9 * level)) & 511;
    }

    private static IllegalStateException refusal(long va, int level, long slot, String what) {
        return new IllegalStateException(String.format("cannot map the test harness's snippet area at V0x%x: the "
                + "kernel's %s entry %d (at P0x%x) %s; kemu needs V0x%x..V0x%x free in the kernel's page tables "
                + "at the snapshot point (or the kernel's use of kemu's memory services, HC_MM_INIT)", va, LEVELS[level],
                index(va, level), slot, what, TestMachine.CODE_VA, TestMachine.STACK_VA + TestMachine.STACK_SIZE));
    }
}
