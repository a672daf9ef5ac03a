package dev.kemu.kernel.slab;

import dev.kemu.machine.GuestRam;

/**
 * Linux's {@code struct track} in guest RAM, two per object under --slub-debug=U (allocation at
 * {@link ObjectSlot#track()}, free 24 bytes after it):
 *
 * <pre>
 *   +0   u64 addr    guest RIP of the call: the instruction after the hypercall's {@code out}, 0 = never
 *   +8   u64 when    the machine's instruction count at the call (Linux stores jiffies)
 *   +16  u32 cpu     the CPU that made the call
 *   +20  u32 pid     0: kemu has no processes
 * </pre>
 */
public record SlubTrack(long addr, long when, int cpu, int pid) {
    public static final int SIZE = 24, ADDR = 0, WHEN = 8, CPU = 16, PID = 20;
    public static final int ALLOC = 0, FREE = 1;

    /**
     * The {@link #ALLOC} or {@link #FREE} track of the object whose slot starts at {@code objectPhys},
     * or empty when the cache was not created with --slub-debug=U.
     */
    public static java.util.Optional<SlubTrack> of(KmemCache cache, long objectPhys, int which) {
        if ((cache.debugFlags() & SlubDebug.TRACK) == 0) {
            return java.util.Optional.empty();
        }
        long at = objectPhys + ObjectSlot.of(cache).track() + (long) which * SIZE;
        return at + SIZE <= cache.ram().size() ? java.util.Optional.of(read(cache.ram(), at)) : java.util.Optional.empty();
    }

    static SlubTrack read(GuestRam ram, long at) {
        return new SlubTrack(ram.read64(at + ADDR), ram.read64(at + WHEN), ram.read32(at + CPU), ram.read32(at + PID));
    }

    static void write(GuestRam ram, long at, long addr, long when, int cpu) {
        ram.write64(at + ADDR, addr);
        ram.write64(at + WHEN, when);
        ram.write32(at + CPU, cpu);
        ram.write32(at + PID, 0);
    }

    public boolean recorded() {
        return addr != 0;
    }
}
