package dev.kemu.kernel;

import dev.kemu.kernel.mm.FrameTable;
import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.mm.MmLayout;
import dev.kemu.kernel.mm.MmRoot;
import dev.kemu.kernel.mm.NumaTopology;
import dev.kemu.kernel.mm.PhysRange;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Kernel memory services over plain memory, no emulator: 16 MiB of "guest RAM" with an
 * empty PML4 at P0x1000, RAM usable from P0x2000, and the mm root at P0x10000.
 */
public final class MmFixture implements AutoCloseable {
    public static final long RAM = 16L << 20;
    public static final long PML4 = 0x1000;
    public static final long ROOT = 0x10000;

    private final Arena arena = Arena.ofConfined();
    public final GuestRam ram;
    public final KernelMemory memory;
    public int tlbFlushes;

    public MmFixture() {
        this(RAM);
    }

    public MmFixture(long ramBytes) {
        this(ramBytes, NumaTopology.single());
    }

    /** RAM in the NUMA nodes of {@code topology}. */
    public MmFixture(long ramBytes, NumaTopology topology) {
        ram = new GuestRam(arena.allocate(ramBytes, 4096));
        memory = KernelMemory.initialize(ram, PhysAddr.of(ROOT), List.of(new PhysRange(PhysAddr.of(0x2000), PhysAddr.of(ramBytes), FrameType.FREE)),
                List.of(), PhysAddr.of(PML4), () -> tlbFlushes++, topology);
    }

    public MmRoot root() {
        return memory.root();
    }

    /** The allocator state that must come back once everything is freed: free blocks and frame types. */
    public List<String> frameState() {
        FrameTable frames = FrameTable.of(root());
        List<String> state = new ArrayList<>();
        state.add("free=" + root().freeFrames());
        for (long pfn = 0; pfn < frames.frames(); pfn++) {
            if (frames.isHead(pfn)) {
                state.add(pfn + ":" + frames.type(pfn) + "/" + frames.order(pfn));
            }
        }
        return state;
    }

    /** A byte copy of all guest RAM, to prove a rejected call changed nothing. */
    public byte[] snapshot() {
        return ram.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }

    public boolean unchangedSince(byte[] snapshot) {
        return MemorySegment.mismatch(ram.segment(), 0, ram.size(), MemorySegment.ofArray(snapshot), 0, snapshot.length) == -1;
    }

    public static long page(long n) {
        return n * MmLayout.PAGE;
    }

    @Override
    public void close() {
        arena.close();
    }
}
