package dev.kemu.boot.limine;

import dev.kemu.elf.ElfFormatException;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.nio.charset.StandardCharsets;

/**
 * The bootloader-reclaimable memory kemu's Limine loader writes everything into (responses, strings, page tables,
 * the GDT, the stack), as PROTOCOL.md requires: one range allocated upwards, zero-filled, listed in the memory map
 * as bootloader reclaimable. Addresses handed to the kernel are HHDM addresses ({@link #virtual}).
 */
final class ReclaimableArena {
    static final long PAGE = 4096;

    private final GuestRam ram;
    private final long start, limit, hhdm;
    private long next;

    ReclaimableArena(GuestRam ram, long start, long limit, long hhdm) {
        this.ram = ram;
        this.start = align(start, PAGE);
        this.limit = limit;
        this.hhdm = hhdm;
        this.next = this.start;
    }

    /** {@code bytes} of zeros aligned to {@code alignment}. */
    PhysAddr allocate(long bytes, long alignment) {
        long at = align(next, alignment);
        if (at + bytes > limit) {
            throw new ElfFormatException(String.format("the Limine responses, page tables and stack do not fit: "
                    + "[P0x%x-P0x%x) would pass usable guest RAM at P0x%x; give the guest more RAM (--ram) or ask for "
                    + "a smaller stack", start, at + bytes, limit));
        }
        ram.fill(at, bytes, (byte) 0);
        next = at + bytes;
        return PhysAddr.of(at);
    }

    PhysAddr page() {
        return allocate(PAGE, PAGE);
    }

    /** A NUL-terminated copy of {@code text}; returns its HHDM address. */
    VirtAddr string(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        PhysAddr at = allocate(bytes.length + 1, 1);
        ram.write(at.value(), bytes);
        return virtual(at);
    }

    VirtAddr virtual(PhysAddr physical) {
        return VirtAddr.of(physical.value() + hhdm);
    }

    PhysAddr start() {
        return PhysAddr.of(start);
    }

    /** The end of what was allocated, page-aligned (the reclaimable entry's end). */
    PhysAddr end() {
        return PhysAddr.of(align(next, PAGE));
    }

    static long align(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }
}
