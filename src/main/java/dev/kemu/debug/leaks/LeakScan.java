package dev.kemu.debug.leaks;

import dev.kemu.kernel.mm.FrameTable;
import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PageWalker;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

import static dev.kemu.kernel.mm.MmLayout.PAGE;

/**
 * kmemleak's scan over guest RAM (Linux mm/kmemleak.c, kmemleak_scan): every tracked object starts
 * white; each aligned 8-byte value in the roots that points into one turns it grey; grey objects
 * are scanned in turn, their values colouring more; what stays white is unreferenced. Conservative:
 * any value that looks like a pointer counts, so a leak can hide behind a stale integer but a live
 * object is never reported. kemu also scans the frames guest code took with frame_alloc and the
 * pages of demand-paged VMAs: kmemleak cannot see page allocations and does not scan them, which
 * costs it false positives; kemu can, so it does.
 */
public final class LeakScan {
    private final GuestRam ram;
    private final AllocatedObjects objects;
    private final Set<TrackedObject> referenced = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Deque<TrackedObject> grey = new ArrayDeque<>();

    private final PhysicalAliases aliases;

    private LeakScan(KernelMemory memory, PhysicalAliases aliases) {
        this.ram = memory.root().ram();
        this.aliases = aliases;
        this.objects = AllocatedObjects.of(memory);
    }

    /** {@link #run(KernelMemory, ScanRoots, AllocationSites, PhysicalAliases)} with virtual pointers only, as kmemleak. */
    public static LeakReport run(KernelMemory memory, ScanRoots roots, AllocationSites sites) {
        return run(memory, roots, sites, PhysicalAliases.IGNORED);
    }

    /** The objects allocated now that nothing in {@code roots}, nor any object reachable from them, points into. */
    public static LeakReport run(KernelMemory memory, ScanRoots roots, AllocationSites sites, PhysicalAliases aliases) {
        LeakScan scan = new LeakScan(memory, aliases);
        scan.scanRoots(memory, roots);
        while (!scan.grey.isEmpty()) {
            scan.grey.pop().bytes().forEach(bytes -> scan.scanPhysical(bytes.start(), bytes.length()));
        }
        List<TrackedObject> leaks = scan.objects.all().stream().filter(o -> !scan.referenced.contains(o)).toList();
        return new LeakReport(leaks, scan.objects.all().size(), scan.ram, sites);
    }

    private void scanRoots(KernelMemory memory, ScanRoots roots) {
        roots.registers().forEach(this::mark);
        PageWalker walker = new PageWalker(ram);
        for (ScanRoots.Range range : roots.ranges()) {
            scanVirtual(walker, roots.cr3(), range.start() & -8L, range.end());
        }
        FrameTable frames = FrameTable.of(memory.root());
        for (long pfn = 0; pfn < frames.frames(); pfn++) {
            int code = frames.typeCode(pfn);
            if (code == FrameType.ALLOCATED.ordinal() || code == FrameType.DEMAND_PAGED.ordinal()) {
                scanPhysical(pfn * PAGE, PAGE);
            }
        }
    }

    private void scanVirtual(PageWalker walker, long cr3, long start, long end) {
        for (long va = start; Long.compareUnsigned(va, end) < 0; ) {
            long pageEnd = (va | (PAGE - 1)) + 1;
            long chunkEnd = Long.compareUnsigned(pageEnd, end) < 0 && pageEnd != 0 ? pageEnd : end;
            long pa = walker.translate(cr3, va);
            if (pa >= 0) {
                scanPhysical(pa, chunkEnd - va);
            }
            if (pageEnd == 0) {
                return; // the last page of the address space
            }
            va = chunkEnd;
        }
    }

    private void scanPhysical(long pa, long length) {
        long start = (pa + 7) & -8L;
        long end = Math.min(pa + length, ram.size());
        if (start >= end) {
            return;
        }
        ByteBuffer words = ByteBuffer.wrap(ram.read(start, (int) (end - start))).order(ByteOrder.LITTLE_ENDIAN);
        while (words.remaining() >= 8) {
            mark(words.getLong());
        }
    }

    private void mark(long value) {
        objects.pointedAt(value, aliases).ifPresent(object -> {
            if (referenced.add(object)) {
                grey.push(object);
            }
        });
    }
}
