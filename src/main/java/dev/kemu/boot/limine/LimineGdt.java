package dev.kemu.boot.limine;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;

/**
 * The GDT the Limine protocol promises at entry (PROTOCOL.md, "Machine state at entry", x86-64), in
 * bootloader-reclaimable memory; kemu's firmware loads it and the 64-bit selectors 0x28 (code) and 0x30 (data).
 *
 * <pre>
 *   0x00  null
 *   0x08  16-bit code   base 0, limit 0xffff, readable
 *   0x10  16-bit data   base 0, limit 0xffff, writable
 *   0x18  32-bit code   base 0, limit 0xffffffff (4 KiB granular), readable
 *   0x20  32-bit data   base 0, limit 0xffffffff, writable
 *   0x28  64-bit code   L=1, readable
 *   0x30  64-bit data   writable
 * </pre>
 */
final class LimineGdt {
    static final int CODE64 = 0x28, DATA64 = 0x30;
    private static final long[] DESCRIPTORS = {0, 0x00009a000000ffffL, 0x000092000000ffffL, 0x00cf9a000000ffffL,
            0x00cf92000000ffffL, 0x00af9a000000ffffL, 0x00cf92000000ffffL};
    static final int LIMIT = DESCRIPTORS.length * 8 - 1;

    private LimineGdt() {}

    static PhysAddr write(GuestRam ram, ReclaimableArena arena) {
        PhysAddr gdt = arena.allocate(DESCRIPTORS.length * 8L, 16);
        for (int i = 0; i < DESCRIPTORS.length; i++) {
            ram.write64(gdt.value() + i * 8L, DESCRIPTORS[i]);
        }
        return gdt;
    }
}
