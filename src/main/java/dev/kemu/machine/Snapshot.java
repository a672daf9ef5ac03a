package dev.kemu.machine;

import dev.kemu.nativelib.AnonymousMemory;
import dev.kemu.unicorn.Context;
import dev.kemu.unicorn.X86Reg;

import java.lang.foreign.MemorySegment;
import java.util.BitSet;
import java.util.List;

/**
 * A restorable state of a {@link Machine}: a copy of guest RAM, the CPU context, and the set
 * of page-table pages. Restoring puts back every page whose bytes differ from the copy among
 * the candidates: the pages written since the snapshot (guest stores through a write hook, host
 * writes through {@link GuestRam}) plus the page tables whose still-open entries changed (the MMU
 * sets accessed/dirty bits without a store the hook sees; {@link MmuWritableEntries}); all of RAM when the tracker cannot vouch for its set (see
 * {@link DirtyPages}) or the guest left another page-table root in CR3. Then it drops Unicorn's
 * translated code of every page it put back (none when no guest code ran since the last restore:
 * every translation then predates it, made from the bytes it put back), restores the CPU, and
 * flushes the TLB unless it is known to hold only what a walk of the snapshot's tables would
 * put there ({@link #tlbStillValid}).
 */
public final class Snapshot implements AutoCloseable {
    static final long PAGE = 4096;
    private static final MemorySegment ZERO_PAGE = MemorySegment.ofArray(new byte[(int) PAGE]);

    private final Machine machine;
    private final AnonymousMemory copy;
    private final Context cpu;
    private final long cr3;
    private final long cr0, cr4, efer;
    private final boolean paging;
    private final RegisterBlock controls; // CR0, CR3, CR4 in one call
    private final long[] controlValues = new long[3];
    private long emulationsSince; // the machine's uc_emu_start count when this snapshot's tracked set began
    private final long[] pageTablePages;
    private final MmuWritableEntries[] openEntries; // per page-table page: where the MMU may still write
    private final ChangedPages changed = new ChangedPages();
    private long fullScans;
    private long copied;
    private long keptFrom = -1, keptTo = -1; // pages whose translations the caller manages

    private Snapshot(Machine machine, AnonymousMemory copy, Context cpu, CpuState state, long[] pageTablePages,
                     boolean fourLevel) {
        this.machine = machine;
        this.copy = copy;
        this.cpu = cpu;
        this.cr3 = state.cr3();
        this.cr0 = state.cr0();
        this.cr4 = state.cr4();
        this.efer = state.efer();
        this.paging = state.pagingEnabled();
        this.controls = machine.registers(X86Reg.CR0, X86Reg.CR3, X86Reg.CR4);
        this.pageTablePages = pageTablePages;
        this.openEntries = new MmuWritableEntries[pageTablePages.length];
        for (int i = 0; i < pageTablePages.length; i++) {
            openEntries[i] = MmuWritableEntries.of(copy.segment(), pageTablePages[i], fourLevel);
        }
    }

    /** Takes a snapshot and starts tracking writes from here. */
    public static Snapshot take(Machine machine) {
        GuestRam ram = machine.ram();
        AnonymousMemory copy = new AnonymousMemory(ram.size());
        MemorySegment source = ram.segment();
        MemorySegment target = copy.segment();
        BitSet touched = machine.residentPages(); // reading the others would only fault in zero pages
        for (int index = touched.nextSetBit(0); index >= 0; index = touched.nextSetBit(index + 1)) {
            // Untouched pages stay unbacked in the copy too: only non-zero pages are copied.
            long page = index * PAGE;
            MemorySegment slice = source.asSlice(page, PAGE);
            if (slice.mismatch(ZERO_PAGE) != -1) {
                MemorySegment.copy(slice, 0, target, page, PAGE);
            }
        }
        CpuState state = machine.cpu();
        List<Long> tables = state.pagingEnabled() ? machine.pageWalker().tables(state.cr3()) : List.of();
        boolean fourLevel = PagingFormat.of(state) == PagingFormat.FOUR_LEVEL;
        Snapshot snapshot = new Snapshot(machine, copy, machine.engine().contextSave(), state,
                tables.stream().mapToLong(Long::longValue).toArray(), fourLevel);
        snapshot.trackFromHere(machine.dirtyPages());
        return snapshot;
    }

    private void trackFromHere(DirtyPages dirty) {
        dirty.unwatchAll();
        for (long table : pageTablePages) {
            dirty.watch(table / PAGE);
        }
        dirty.clear();
        dirty.relativeTo = this;
        emulationsSince = machine.emulations();
    }

    /** Puts the machine back exactly as it was at {@link #take}; returns how many pages were copied. */
    public long restore() {
        DirtyPages dirty = machine.dirtyPages();
        MemorySegment ram = machine.ram().segment();
        MemorySegment saved = copy.segment();
        changed.clear();
        copied = 0;
        controls.read(controlValues);
        boolean newest = dirty.relativeTo == this; // another snapshot taken since: its set says nothing about this one
        boolean tablesAsTaken = false;
        if (!newest || !dirty.complete() || controlValues[1] != cr3 || guestEditedNewTables(dirty)) {
            fullScans++;
            restoreAll(ram, saved);
        } else {
            // Without a run since the set began, translations are all older than the last restore or take, when
            // every page held the bytes that are put back now: they stay valid, and so does the TLB's view of them.
            boolean guestRan = machine.emulations() != emulationsSince;
            tablesAsTaken = true;
            for (int i = 0; i < pageTablePages.length; i++) {
                long page = pageTablePages[i] / PAGE;
                if (dirty.isDirty(page) || openEntries[i].mayDiffer(ram, saved, pageTablePages[i])) {
                    dirty.mark(pageTablePages[i], PAGE);
                    tablesAsTaken = false;
                }
            }
            dirty.forEach(page -> restorePage(ram, saved, page, guestRan));
        }
        boolean tlbValid = tablesAsTaken && changed.runs() == 0 && tlbStillValid();
        if (newest) {
            dirty.clear();
        } else {
            trackFromHere(dirty);
        }
        TranslatedCode.drop(machine.engine(), changed);
        machine.engine().contextRestore(cpu);
        if (!tlbValid) {
            machine.engine().flushTlb();
        }
        emulationsSince = machine.emulations();
        return copied;
    }

    /**
     * Whether the TLB may stay as it is: called when no page table was written or had an accessed/dirty bit set
     * since the last restore, so every entry filled since was walked through the snapshot's tables and set no
     * bit they lack. The entries left are those of the mode the CPU ends in (QEMU flushes when CR0 or CR4 change
     * paging), so that mode must be the snapshot's: the same CR0, CR4 and EFER (NXE), with paging on (the identity
     * TLB of a CPU without paging keeps its own rules).
     */
    private boolean tlbStillValid() {
        return paging && controlValues[0] == cr0 && controlValues[2] == cr4 && machine.msr(X86Reg.MSR_EFER) == efer;
    }

    /**
     * Leaves Unicorn's translated code of the pages in {@code [physical, physical + length)} to the
     * caller, who rewrites them before every run and calls {@link Machine#codeChanged} when their
     * code differs from what ran before (the test harness's snippet area: the same snippet again
     * keeps its translations). Restores still put their bytes back.
     */
    public void leaveTranslationsOf(long physical, long length) {
        if (physical < 0 || length <= 0 || physical + length > machine.ram().size()) {
            throw new IllegalArgumentException(String.format("cannot leave the translations of P0x%x + 0x%x to the"
                    + " caller: not inside guest RAM of 0x%x bytes", physical, length, machine.ram().size()));
        }
        keptFrom = physical / PAGE;
        keptTo = (physical + length + PAGE - 1) / PAGE;
    }

    /**
     * Whether the guest stored into a page table that the host added to the tree since the
     * snapshot (new tables are not watched): an entry there may point the MMU at any page, whose
     * accessed/dirty bits it then sets unseen. Walks the tree only when the host edited a table.
     */
    private boolean guestEditedNewTables(DirtyPages dirty) {
        boolean edited = false;
        for (long table : pageTablePages) {
            edited |= dirty.isDirty(table / PAGE);
        }
        if (!edited) {
            return false;
        }
        java.util.Set<Long> known = java.util.Arrays.stream(pageTablePages).boxed().collect(java.util.stream.Collectors.toSet());
        for (long table : machine.pageWalker().tables(cr3)) {
            if (!known.contains(table) && dirty.storedByGuest(table / PAGE)) {
                return true;
            }
        }
        return false;
    }

    /** How many restores had to compare all of RAM because the tracked set was not known to be complete. */
    public long fullScans() {
        return fullScans;
    }

    /** Puts back one page if it differs; {@code dropTranslations}: Unicorn's translations of its bytes may be stale. */
    private void restorePage(MemorySegment ram, MemorySegment saved, long page, boolean dropTranslations) {
        long offset = page * PAGE;
        MemorySegment current = ram.asSlice(offset, PAGE);
        MemorySegment original = saved.asSlice(offset, PAGE);
        if (current.mismatch(original) != -1) { // unchanged bytes need no copy and keep their translations
            current.copyFrom(original);
            copied++;
            if (dropTranslations && (page < keptFrom || page >= keptTo)) {
                changed.add(page);
            }
        }
    }

    /**
     * Compares all of RAM with the copy and puts back each differing page. Pages that neither
     * side ever touched both read as zero and are skipped (a large guest touches few of them).
     */
    private void restoreAll(MemorySegment ram, MemorySegment saved) {
        BitSet candidates = machine.residentPages();
        candidates.or(copy.residentPages());
        for (int page = candidates.nextSetBit(0); page >= 0; page = candidates.nextSetBit(page + 1)) {
            restorePage(ram, saved, page, true);
        }
    }

    @Override
    public void close() {
        cpu.close();
        copy.close();
    }
}
