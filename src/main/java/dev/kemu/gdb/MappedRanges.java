package dev.kemu.gdb;

import dev.kemu.machine.CpuState;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.Machine;

/**
 * {@code monitor tlb}: every mapped range of the current CR3, with its flags, like QEMU's
 * {@code info tlb} but with neighbouring pages of the same flags and consecutive frames merged.
 */
final class MappedRanges {
    private static final long PRESENT = 1, WRITABLE = 2, USER = 4, LARGE = 0x80;
    private static final long NO_EXECUTE = 1L << 63;
    private static final long FRAME_64 = 0x000f_ffff_ffff_f000L;

    private final GuestRam ram;
    private final StringBuilder out = new StringBuilder();
    private long runVa = -1, runPa, runEnd;
    private String runFlags = "";
    private int ranges;

    private MappedRanges(GuestRam ram) {
        this.ram = ram;
    }

    static String describe(Machine machine) {
        CpuState cpu = machine.cpu();
        if (!cpu.pagingEnabled()) {
            return "paging is off (CR0.PG clear): virtual addresses are physical\n";
        }
        MappedRanges ranges = new MappedRanges(machine.ram());
        if (cpu.longModeActive()) {
            ranges.walk64(cpu.cr3() & FRAME_64, 4, 0, WRITABLE | USER);
        } else if ((cpu.cr4() & CpuState.CR4_PAE) != 0) {
            return "PAE paging: not shown yet (kemu's walker knows 4-level and 32-bit paging; see docs/gdb.md)\n";
        } else {
            ranges.walk32(cpu.cr3() & 0xffff_f000L, (cpu.cr4() & 0x10) != 0);
        }
        ranges.flush();
        return ranges.out.append(ranges.ranges == 0 ? "nothing is mapped\n" : "").toString();
    }

    private void walk64(long table, int level, long vaBase, long inherited) {
        long span = 1L << (12 + 9 * (level - 1));
        for (int index = 0; index < 512; index++) {
            long at = table + index * 8L;
            if (!ram.contains(at, 8)) {
                return;
            }
            long entry = ram.read64(at);
            if ((entry & PRESENT) == 0) {
                continue;
            }
            long va = canonical(vaBase + index * span);
            // Writable and user only if every level says so; no-execute if any level does.
            long effective = (inherited & entry & (WRITABLE | USER)) | ((inherited | entry) & NO_EXECUTE);
            if (level == 1 || ((entry & LARGE) != 0 && level <= 3)) {
                long frame = (entry & FRAME_64) & ~(span - 1);
                add(va, frame, span, flags(effective));
            } else {
                walk64(entry & FRAME_64, level - 1, va, effective);
            }
        }
    }

    private void walk32(long directory, boolean pse) {
        for (int index = 0; index < 1024; index++) {
            long at = directory + index * 4L;
            if (!ram.contains(at, 4)) {
                return;
            }
            long pde = ram.read32(at) & 0xffff_ffffL;
            if ((pde & PRESENT) == 0) {
                continue;
            }
            long va = (long) index << 22;
            if (pse && (pde & LARGE) != 0) {
                add(va, pde & 0xffc0_0000L, 1L << 22, flags(pde));
                continue;
            }
            long table = pde & 0xffff_f000L;
            for (int i = 0; i < 1024; i++) {
                long pteAt = table + i * 4L;
                if (!ram.contains(pteAt, 4)) {
                    break;
                }
                long pte = ram.read32(pteAt) & 0xffff_ffffL;
                if ((pte & PRESENT) != 0) {
                    add(va + ((long) i << 12), pte & 0xffff_f000L, 4096, flags(pte & pde));
                }
            }
        }
    }

    private static long canonical(long va) {
        return (va << 16) >> 16;
    }

    private static String flags(long entry) {
        return ((entry & WRITABLE) != 0 ? "W" : "-") + ((entry & USER) != 0 ? "U" : "-")
                + ((entry & NO_EXECUTE) != 0 ? "NX" : "X");
    }

    private void add(long va, long pa, long size, String flags) {
        if (runVa != -1 && va == runEnd && pa == runPa + (runEnd - runVa) && flags.equals(runFlags)) {
            runEnd += size;
            return;
        }
        flush();
        runVa = va;
        runPa = pa;
        runEnd = va + size;
        runFlags = flags;
    }

    private void flush() {
        if (runVa != -1) {
            out.append(String.format("V0x%016x-V0x%016x -> P0x%x %8d KiB %s%n", runVa, runEnd, runPa,
                    (runEnd - runVa) >> 10, runFlags));
            ranges++;
        }
        runVa = -1;
    }
}
