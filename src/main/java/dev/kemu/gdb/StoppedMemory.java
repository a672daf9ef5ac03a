package dev.kemu.gdb;

import dev.kemu.machine.Machine;

import java.util.Arrays;

/**
 * Guest-virtual memory as the debugger reads it between two packets that could change it: each page's
 * translation is walked once and kept until {@link #forget}. After a stepi gdb reads four times from
 * two or three pages; each read walked the page tables again, with three register reads for the paging
 * mode. The stub forgets at every packet other than a read, so that a run, a register or memory write,
 * a restore or another thread never meets an old translation.
 */
final class StoppedMemory {
    private static final int PAGE = 4096;
    /** Pages remembered at once; a stop's reads touch a few. */
    private static final int SLOTS = 8;

    private final long[] pages = new long[SLOTS];
    private final long[] physical = new long[SLOTS];
    private int used;
    private int next;
    private Machine owner;

    /** Up to {@code length} bytes at {@code address} as {@code cpu} sees them, fewer if an unmapped page ends them. */
    byte[] read(Machine cpu, long address, int length) {
        if (cpu != owner) {
            forget();
            owner = cpu;
        }
        byte[] bytes = new byte[length];
        int done = 0;
        while (done < length) {
            long at = physical(cpu, address + done);
            if (at < 0) {
                return Arrays.copyOf(bytes, done);
            }
            int chunk = (int) Math.min(length - done, Math.min(PAGE - (at & (PAGE - 1)), cpu.ram().size() - at));
            System.arraycopy(cpu.ram().read(at, chunk), 0, bytes, done, chunk);
            done += chunk;
        }
        return bytes;
    }

    /** The guest may have changed (it ran, or the debugger wrote): translate again from now on. */
    void forget() {
        used = 0;
        next = 0;
        owner = null;
    }

    private long physical(Machine cpu, long address) {
        long page = address & -PAGE;
        for (int i = 0; i < used; i++) {
            if (pages[i] == page) {
                return physical[i] < 0 ? -1 : physical[i] + (address & (PAGE - 1));
            }
        }
        long base = cpu.physical(page); // -1 when unmapped or not RAM: remembered as well
        pages[next] = page;
        physical[next] = base;
        next = (next + 1) % SLOTS;
        used = Math.max(used, next == 0 ? SLOTS : next);
        return base < 0 ? -1 : base + (address & (PAGE - 1));
    }
}
