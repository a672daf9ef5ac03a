package dev.kemu.testing;

import dev.kemu.machine.CpuState;
import dev.kemu.machine.Machine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Optional;

/**
 * A copy of a whole machine (every byte of guest RAM, every register) to compare it with
 * later: the exactness check of a restore, which must not trust the dirty-page tracker.
 */
final class MachineImage implements AutoCloseable {
    private static final long PAGE = 4096;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment ram;
    private final CpuState cpu;

    MachineImage(Machine machine) {
        MemorySegment live = machine.ram().segment();
        ram = arena.allocate(live.byteSize(), PAGE);
        ram.copyFrom(live);
        cpu = machine.cpu();
    }

    /** The first difference from {@code machine}, in words (page, offset, both bytes), or empty. */
    Optional<String> difference(Machine machine) {
        MemorySegment live = machine.ram().segment();
        long at = ram.mismatch(live);
        if (at >= 0) {
            return Optional.of(String.format("guest RAM differs at P0x%x (page P0x%x): 0x%02x expected, 0x%02x found;"
                            + " %d differing pages in all", at, at & -PAGE, ram.get(java.lang.foreign.ValueLayout.JAVA_BYTE, at),
                    live.get(java.lang.foreign.ValueLayout.JAVA_BYTE, at), differingPages(live)));
        }
        CpuState now = machine.cpu();
        if (!Arrays.equals(cpu.gprs(), now.gprs())) {
            return Optional.of("registers differ: " + Arrays.toString(cpu.gprs()) + " expected, " + Arrays.toString(now.gprs()));
        }
        if (cpu.rip() != now.rip() || cpu.rflags() != now.rflags() || cpu.cr0() != now.cr0() || cpu.cr3() != now.cr3()
                || cpu.cr4() != now.cr4() || cpu.efer() != now.efer() || cpu.cs() != now.cs() || cpu.ss() != now.ss()) {
            return Optional.of("CPU state differs: " + cpu + " expected, " + now + " found");
        }
        return Optional.empty();
    }

    private long differingPages(MemorySegment live) {
        long count = 0;
        for (long page = 0; page < ram.byteSize(); page += PAGE) {
            if (ram.asSlice(page, PAGE).mismatch(live.asSlice(page, PAGE)) >= 0) {
                count++;
            }
        }
        return count;
    }

    @Override
    public void close() {
        arena.close();
    }
}
