package dev.kemu.kernel.slab;

import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.mm.PhysRange;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * Kernel memory over plain memory (as MmFixture) with --slub-debug modes, a fake caller for the
 * U tracks and the reports collected: a "guest" whose instructions are Java writes into RAM.
 */
public final class SlubFixture implements AutoCloseable {
    static final long RAM = 16L << 20;
    private final Arena arena = Arena.ofConfined();
    public final GuestRam ram;
    public final KernelMemory memory;
    public final List<SlubReport> reports = new ArrayList<>();
    long rip = 0xffff_ffff_8010_0000L;
    long instructions;

    public SlubFixture(String modes) {
        ram = new GuestRam(arena.allocate(RAM, 4096));
        memory = KernelMemory.initialize(ram, PhysAddr.of(0x10000), List.of(new PhysRange(PhysAddr.of(0x2000),
                PhysAddr.of(RAM), FrameType.FREE)), List.of(), PhysAddr.of(0x1000), () -> {}, SlubDebug.parse(modes));
        CallSite site = new CallSite() {
            public long rip() {
                return rip;
            }

            public long instructions() {
                return instructions;
            }

            public int cpu() {
                return 0;
            }
        };
        memory.slabs().reportDebugTo(site, a -> String.format("site_%x", a), reports::add);
    }

    /** kmalloc from a "call site": the RIP the track records. */
    public VirtAddr kmalloc(long size, long fromRip) {
        rip = fromRip;
        instructions += 100;
        return memory.kmalloc().allocate(size, false).orElseThrow();
    }

    public dev.kemu.kernel.mm.FreeResult kfree(VirtAddr object, long fromRip) {
        rip = fromRip;
        instructions += 100;
        return memory.kmalloc().free(object);
    }

    public long phys(VirtAddr virtual) {
        return memory.root().physicalOf(virtual).orElseThrow().value();
    }

    public void write8(VirtAddr virtual, long offset, int value) {
        ram.write8(phys(virtual) + offset, value);
    }

    public int read8(VirtAddr virtual, long offset) {
        return ram.read8(phys(virtual) + offset);
    }

    @Override
    public void close() {
        arena.close();
    }
}
