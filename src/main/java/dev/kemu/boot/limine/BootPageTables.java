package dev.kemu.boot.limine;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;

/**
 * 4-level x86-64 page tables that kemu's Limine loader builds in guest RAM before the handoff (PROTOCOL.md, "Entry
 * memory layout": the loader's tables live in bootloader-reclaimable memory and their layout is undefined). Tables
 * are allocated from the arena on first use; intermediate entries are present, writable and user-clear, so the leaf
 * entry alone decides write and execute permission.
 */
final class BootPageTables {
    static final long PRESENT = 1, WRITABLE = 1 << 1, HUGE = 1 << 7, NO_EXECUTE = 1L << 63;
    private static final long ADDRESS_MASK = 0x000f_ffff_ffff_f000L;
    private static final long TWO_MIB = 2L << 20;

    private final GuestRam ram;
    private final ReclaimableArena arena;
    private final PhysAddr pml4;

    BootPageTables(GuestRam ram, ReclaimableArena arena) {
        this.ram = ram;
        this.arena = arena;
        this.pml4 = arena.page();
    }

    PhysAddr pml4() {
        return pml4;
    }

    /** Maps {@code [virt, virt+length)} to {@code [phys, ...)} with 2 MiB pages; all three 2 MiB aligned. */
    void mapLarge(long virt, long phys, long length, long flags) {
        for (long off = 0; off < length; off += TWO_MIB) {
            long pd = table(table(pml4.value(), virt + off, 39), virt + off, 30);
            ram.write64(pd + index(virt + off, 21) * 8, (phys + off) | flags | PRESENT | HUGE);
        }
    }

    /** Maps the 4 KiB page at {@code virt} to {@code phys}. */
    void mapPage(long virt, long phys, long flags) {
        long pt = table(table(table(pml4.value(), virt, 39), virt, 30), virt, 21);
        ram.write64(pt + index(virt, 12) * 8, phys | flags | PRESENT);
    }

    /** The table the entry for {@code virt} at {@code shift} in {@code table} points to, created when absent. */
    private long table(long table, long virt, int shift) {
        long entryAt = table + index(virt, shift) * 8;
        long entry = ram.read64(entryAt);
        if ((entry & PRESENT) != 0) {
            return entry & ADDRESS_MASK;
        }
        long created = arena.page().value();
        ram.write64(entryAt, created | PRESENT | WRITABLE);
        return created;
    }

    private static long index(long virt, int shift) {
        return (virt >>> shift) & 0x1ff;
    }
}
