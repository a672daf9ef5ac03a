package dev.kemu.kernel.mm;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.PageWalk;
import dev.kemu.machine.PageWalker;
import dev.kemu.machine.VirtAddr;

import dev.kemu.machine.PhysAddr;

import java.util.Optional;

/**
 * vmmap / vmunmap / translate / protect on a PML4 in guest RAM. Intermediate tables come
 * from the buddy allocator (frames typed PAGE_TABLE, whose tag counts present entries) and
 * go back to it when they become empty; the PML4 itself is never freed. Every edit ends
 * with a TLB flush, because the emulated CPU may have cached the old translation.
 */
public final class PageTables {
    /** Flags intermediate entries carry: the leaf alone decides the access rights. */
    private static final long TABLE_FLAGS = PageTableEntry.PRESENT | PageTableEntry.WRITABLE | PageTableEntry.USER;
    /** Leaf flags a caller may choose; PRESENT is implied, HUGE chosen by the page size. */
    public static final long ALLOWED_FLAGS = PageTableEntry.WRITABLE | PageTableEntry.USER | PageTableEntry.GLOBAL
            | PageTableEntry.NO_EXECUTE | PageTableEntry.WRITE_THROUGH | PageTableEntry.CACHE_DISABLE;

    /** Called after each edit; flushes the emulator's TLB. */
    @FunctionalInterface
    public interface TlbFlush {
        void flush();
    }

    private final GuestRam ram;
    private final BuddyAllocator buddy;
    private final FrameTable frames;
    private final long pml4;
    private final TlbFlush tlb;

    public PageTables(BuddyAllocator buddy, PhysAddr pml4, TlbFlush tlb) {
        this.buddy = buddy;
        this.frames = buddy.frames();
        this.ram = frames.ram();
        this.pml4 = pml4.value();
        this.tlb = tlb;
    }

    public PhysAddr pml4() {
        return PhysAddr.of(pml4);
    }

    /**
     * Maps {@code virtual} to {@code physical} with a leaf of {@code size}. The distinct types
     * keep the two addresses from being swapped at the call site.
     */
    public MapResult map(VirtAddr virtual, PhysAddr physical, PageSize size, long flags) {
        long va = virtual.value(), pa = physical.value();
        MapResult check = checkAddresses(va, size);
        if (check != MapResult.OK) {
            return check;
        }
        if ((pa & (size.bytes() - 1)) != 0) {
            return MapResult.MISALIGNED;
        }
        if (pa < 0 || pa + size.bytes() > ram.size()) {
            return MapResult.OUTSIDE_RAM;
        }
        if ((flags & ~ALLOWED_FLAGS) != 0) {
            throw new IllegalArgumentException(String.format("flags 0x%x include bits vmmap does not set", flags));
        }
        VirtAddr v = virtual;
        // Check first, then allocate: a failure must leave the tables as they were.
        long table = pml4;
        int missingTables = 0;
        for (int level = 4; level > size.leafLevel(); level--) {
            PageTableEntry entry = entry(table, v.index(level));
            if (!entry.present()) {
                missingTables = level - size.leafLevel();
                break;
            }
            if (entry.huge()) {
                return MapResult.ALREADY_MAPPED;
            }
            table = entry.address().value();
        }
        if (missingTables == 0 && entry(table, v.index(size.leafLevel())).present()) {
            return MapResult.ALREADY_MAPPED;
        }
        if (buddy.root().freeFrames() < missingTables) {
            return MapResult.OUT_OF_MEMORY;
        }
        table = pml4;
        for (int level = 4; level > size.leafLevel(); level--) {
            int index = v.index(level);
            PageTableEntry entry = entry(table, index);
            if (!entry.present()) {
                long fresh = buddy.allocate(0, FrameType.PAGE_TABLE, true).orElseThrow(
                        () -> new KernelPanic("a page-table frame counted free could not be allocated")).value();
                setEntry(table, index, fresh | TABLE_FLAGS, true);
                table = fresh;
            } else {
                table = entry.address().value();
            }
        }
        long leaf = pa | flags | PageTableEntry.PRESENT | (size == PageSize.SIZE_2M ? PageTableEntry.HUGE : 0);
        setEntry(table, v.index(size.leafLevel()), leaf, true);
        tlb.flush();
        return MapResult.OK;
    }

    /** Removes the mapping of {@code va}; returns the physical address it mapped, or empty with nothing changed. */
    public Optional<PhysAddr> unmap(VirtAddr virtual, PageSize size) {
        long va = virtual.value();
        if (checkAddresses(va, size) != MapResult.OK) {
            return Optional.empty();
        }
        VirtAddr v = virtual;
        long[] tables = new long[5];
        tables[4] = pml4;
        for (int level = 4; level > size.leafLevel(); level--) {
            PageTableEntry entry = entry(tables[level], v.index(level));
            if (!entry.present() || entry.huge()) {
                return Optional.empty();
            }
            tables[level - 1] = entry.address().value();
        }
        int leafLevel = size.leafLevel();
        PageTableEntry leaf = entry(tables[leafLevel], v.index(leafLevel));
        if (!leaf.present() || (leafLevel == 2) != leaf.huge()) {
            return Optional.empty();
        }
        setEntry(tables[leafLevel], v.index(leafLevel), 0, false);
        // Free tables that became empty, bottom up; never the PML4.
        for (int level = leafLevel; level < 4; level++) {
            long table = tables[level];
            if (frames.tag(table / MmLayout.PAGE) != 0 || frames.isPinned(table / MmLayout.PAGE)) {
                break; // still used, or shared with another path (kept empty, as Linux keeps kernel tables)
            }
            FreeResult freed = buddy.free(PhysAddr.of(table), 0, FrameType.PAGE_TABLE);
            if (freed != FreeResult.FREED) {
                throw new KernelPanic(String.format("empty page table P0x%x could not be freed: %s", table,
                        freed.reason()));
            }
            setEntry(tables[level + 1], v.index(level + 1), 0, false);
        }
        tlb.flush();
        return Optional.of(leafLevel == 2 ? leaf.hugeFrame(size.bytes()) : leaf.address());
    }

    /**
     * The first 4 KiB page at or after {@code from} and before {@code end} that may be mapped:
     * the walk skips every range whose PML4, PDPT or PD entry is absent (512 GiB, 1 GiB, 2 MiB at
     * a time), so releasing a huge, sparsely touched area costs its present tables, not its size.
     * A huge leaf on the way counts as maybe mapped. Returns {@code end} when none is left.
     */
    public VirtAddr nextMaybeMapped(VirtAddr from, VirtAddr end) {
        long va = from.value() & -MmLayout.PAGE, last = end.value();
        pages:
        while (Long.compareUnsigned(va, last) < 0) {
            long table = pml4;
            for (int level = 4; level >= 1; level--) {
                PageTableEntry entry = entry(table, VirtAddr.of(va).index(level));
                if (!entry.present()) {
                    long span = MmLayout.PAGE << (9 * (level - 1));
                    long next = (va & -span) + span;
                    if (Long.compareUnsigned(next, va) <= 0) {
                        break pages; // wrapped past the top of the address space
                    }
                    va = next;
                    continue pages;
                }
                if (level == 1 || entry.huge()) {
                    return VirtAddr.of(va);
                }
                table = entry.address().value();
            }
        }
        return end;
    }

    /** Changes the flags of the leaf mapping {@code va}, whatever its size. */
    public MapResult protect(VirtAddr va, long flags) {
        if (!va.isCanonical()) {
            return MapResult.NOT_CANONICAL;
        }
        if ((flags & ~ALLOWED_FLAGS) != 0) {
            throw new IllegalArgumentException(String.format("flags 0x%x include bits protect does not set", flags));
        }
        PageWalk walk = new PageWalker(ram).walk(pml4, va);
        if (!walk.mapped()) {
            return MapResult.NOT_MAPPED;
        }
        PageWalk.Level leaf = walk.levels().getLast();
        long raw = leaf.entry().raw();
        long kept = raw & (PageTableEntry.ADDRESS_MASK | PageTableEntry.PRESENT | PageTableEntry.HUGE
                | PageTableEntry.ACCESSED | PageTableEntry.DIRTY);
        ram.write64(leaf.entryAddress().value(), kept | flags);
        tlb.flush();
        return MapResult.OK;
    }

    /** The present 4 KiB leaf entry for {@code va}, or empty when none (absent, or under a huge page). */
    public Optional<PageTableEntry> leaf(VirtAddr va) {
        long table = pml4;
        for (int level = 4; level > 1; level--) {
            PageTableEntry entry = entry(table, va.index(level));
            if (!entry.present() || entry.huge()) {
                return Optional.empty();
            }
            table = entry.address().value();
        }
        PageTableEntry leaf = entry(table, va.index(1));
        return leaf.present() ? Optional.of(leaf) : Optional.empty();
    }

    /**
     * Points the present 4 KiB leaf of {@code va} at {@code physical} with {@code flags}: the
     * copy-on-write handler swaps frames and rights in one entry write, so the tables above it
     * are neither freed nor reallocated. Returns NOT_MAPPED when there is no such leaf.
     */
    public MapResult remap(VirtAddr va, PhysAddr physical, long flags) {
        if ((flags & ~ALLOWED_FLAGS) != 0) {
            throw new IllegalArgumentException(String.format("flags 0x%x include bits remap does not set", flags));
        }
        long table = pml4;
        for (int level = 4; level > 1; level--) {
            PageTableEntry entry = entry(table, va.index(level));
            if (!entry.present() || entry.huge()) {
                return MapResult.NOT_MAPPED;
            }
            table = entry.address().value();
        }
        long at = table + va.index(1) * 8L;
        if ((ram.read64(at) & PageTableEntry.PRESENT) == 0) {
            return MapResult.NOT_MAPPED;
        }
        ram.write64(at, physical.value() | flags | PageTableEntry.PRESENT);
        tlb.flush();
        return MapResult.OK;
    }

    /** The physical address {@code va} maps to, or empty when it is not mapped. */
    public Optional<PhysAddr> translate(VirtAddr va) {
        PageWalk walk = new PageWalker(ram).walk(pml4, va);
        return walk.mapped() ? walk.physical() : Optional.empty();
    }

    public PageWalk walk(VirtAddr va) {
        return new PageWalker(ram).walk(pml4, va);
    }

    private MapResult checkAddresses(long va, PageSize size) {
        if (!VirtAddr.of(va).isCanonical() || !VirtAddr.of(va + size.bytes() - 1).isCanonical()) {
            return MapResult.NOT_CANONICAL;
        }
        return (va & (size.bytes() - 1)) != 0 ? MapResult.MISALIGNED : MapResult.OK;
    }

    private PageTableEntry entry(long table, int index) {
        return new PageTableEntry(ram.read64(table + index * 8L));
    }

    /** Writes an entry and keeps the table's present-entry count in its frame tag. */
    private void setEntry(long table, int index, long value, boolean nowPresent) {
        long at = table + index * 8L;
        boolean wasPresent = (ram.read64(at) & PageTableEntry.PRESENT) != 0;
        ram.write64(at, value);
        long pfn = table / MmLayout.PAGE;
        if (frames.type(pfn) != FrameType.PAGE_TABLE) {
            throw new KernelPanic(String.format("page table P0x%x is typed %s in the frame table", table, frames.type(pfn)));
        }
        if (wasPresent != nowPresent) {
            frames.setTag(pfn, frames.tag(pfn) + (nowPresent ? 1 : -1));
        }
    }

    /**
     * Pins the adopted tables that must outlive their entries: those more than one entry
     * points at, and those kernel-half PML4 entries point at. Tables made later by
     * {@link #map} have exactly one parent entry, so only adopted ones can be shared.
     */
    static void pinShared(GuestRam ram, FrameTable frames, long pml4) {
        java.util.Map<Long, Integer> references = new java.util.HashMap<>();
        java.util.Set<Long> kernelHalf = new java.util.HashSet<>();
        countReferences(ram, pml4, 4, references, new java.util.HashSet<>());
        // Every table below a kernel-half entry is shared by each address space that copies those
        // entries (the boot tables and kernel_pml4 today), however many times this PML4 names it.
        for (int i = 256; i < 512; i++) {
            PageTableEntry entry = new PageTableEntry(ram.read64(pml4 + i * 8L));
            if (entry.present() && !entry.huge()) {
                collectTables(ram, entry.address().value(), 3, kernelHalf);
            }
        }
        references.forEach((table, count) -> {
            if ((count > 1 || kernelHalf.contains(table)) && table < ram.size()) {
                frames.pin(table / MmLayout.PAGE);
            }
        });
    }

    private static void collectTables(GuestRam ram, long table, int level, java.util.Set<Long> tables) {
        if (!tables.add(table) || level == 1 || table + MmLayout.PAGE > ram.size()) {
            return;
        }
        for (int i = 0; i < 512; i++) {
            PageTableEntry entry = new PageTableEntry(ram.read64(table + i * 8L));
            if (entry.present() && !entry.huge()) {
                collectTables(ram, entry.address().value(), level - 1, tables);
            }
        }
    }

    private static void countReferences(GuestRam ram, long table, int level, java.util.Map<Long, Integer> references,
                                        java.util.Set<Long> visited) {
        if (level == 1 || !visited.add(table) || table + MmLayout.PAGE > ram.size()) {
            return;
        }
        for (int i = 0; i < 512; i++) {
            PageTableEntry entry = new PageTableEntry(ram.read64(table + i * 8L));
            if (entry.present() && !(entry.huge() && level <= 3)) {
                long child = entry.address().value();
                references.merge(child, 1, Integer::sum);
                countReferences(ram, child, level - 1, references, visited);
            }
        }
    }

    /** Counts present entries of a table; used when adopting tables built by boot code. */
    static int presentEntries(GuestRam ram, long table) {
        int count = 0;
        for (int i = 0; i < 512; i++) {
            if ((ram.read64(table + i * 8L) & PageTableEntry.PRESENT) != 0) {
                count++;
            }
        }
        return count;
    }
}
