package dev.kemu.machine;

import dev.kemu.nativelib.AnonymousMemory;
import dev.kemu.unicorn.Context;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A restorable state of a {@link Machine}: a copy of guest RAM, the CPU context, and the set
 * of page-table pages. Restoring copies back only the pages written since the snapshot (guest
 * stores through a write hook, host writes through {@link GuestRam}), plus the page tables
 * (the MMU sets accessed/dirty bits in them without a store the hook sees), then restores the
 * CPU and drops cached translations.
 */
public final class Snapshot implements AutoCloseable {
    private static final long PAGE = 4096;

    private final Machine machine;
    private final AnonymousMemory copy;
    private final Context cpu;
    private final long[] pageTablePages;

    private Snapshot(Machine machine, AnonymousMemory copy, Context cpu, long[] pageTablePages) {
        this.machine = machine;
        this.copy = copy;
        this.cpu = cpu;
        this.pageTablePages = pageTablePages;
    }

    /** Takes a snapshot and starts tracking writes from here. */
    public static Snapshot take(Machine machine) {
        GuestRam ram = machine.ram();
        AnonymousMemory copy = new AnonymousMemory(ram.size());
        MemorySegment source = ram.segment();
        MemorySegment target = copy.segment();
        for (long page = 0; page < ram.size(); page += PAGE) {
            // Untouched pages stay unbacked in the copy too: only non-zero pages are copied.
            MemorySegment slice = source.asSlice(page, PAGE);
            if (slice.mismatch(ZERO_PAGE) != -1) {
                MemorySegment.copy(slice, 0, target, page, PAGE);
            }
        }
        CpuState state = machine.cpu();
        List<Long> tables = state.pagingEnabled() ? machine.pageWalker().tables(state.cr3()) : List.of();
        Snapshot snapshot = new Snapshot(machine, copy, machine.engine().contextSave(),
                tables.stream().mapToLong(Long::longValue).toArray());
        machine.dirtyPages().clear();
        return snapshot;
    }

    private static final MemorySegment ZERO_PAGE = MemorySegment.ofArray(new byte[(int) PAGE]);

    /** Puts the machine back exactly as it was at {@link #take}; returns how many pages were copied. */
    public long restore() {
        DirtyPages dirty = machine.dirtyPages();
        for (long table : pageTablePages) {
            dirty.mark(table, PAGE);
        }
        MemorySegment ram = machine.ram().segment();
        MemorySegment saved = copy.segment();
        long[] restored = {0};
        dirty.forEach(page -> {
            MemorySegment.copy(saved, page * PAGE, ram, page * PAGE, PAGE);
            restored[0]++;
        });
        dirty.clear();
        machine.engine().contextRestore(cpu);
        machine.engine().flushTlb();
        return restored[0];
    }

    @Override
    public void close() {
        cpu.close();
        copy.close();
    }
}
