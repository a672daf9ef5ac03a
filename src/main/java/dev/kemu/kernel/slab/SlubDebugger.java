package dev.kemu.kernel.slab;

import dev.kemu.kernel.mm.MmRoot;
import dev.kemu.machine.GuestRam;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongFunction;

import static dev.kemu.kernel.mm.MmLayout.PAGE;

/**
 * --slub-debug over guest RAM: fills new slots with Linux's byte patterns, checks them on alloc
 * and free (F) and on {@link #validate}, records the alloc and free sites (U), and reports a
 * broken pattern in Linux's shape ({@link SlubReport}) before restoring it. Only caches whose
 * descriptor carries debug flags come here; the others keep the plain hot path.
 */
final class SlubDebugger {
    /** mm/poison.h: free object bytes, the last free object byte, padding, red zone free/allocated. */
    static final int POISON_FREE = 0x6b, POISON_END = 0xa5, POISON_INUSE = 0x5a, RED_INACTIVE = 0xbb, RED_ACTIVE = 0xcc;

    private final MmRoot root;
    private final GuestRam ram;
    private final SlabHeader header;
    private final long directMapBase;
    private CallSite site = CallSite.HOST;
    private LongFunction<String> symbolizer = rip -> String.format("0x%x", rip);
    private Consumer<SlubReport> sink = report -> {};

    SlubDebugger(MmRoot root) {
        this.root = root;
        this.ram = root.ram();
        this.header = new SlabHeader(ram);
        this.directMapBase = root.directMapBase().value();
    }

    void reportTo(CallSite site, LongFunction<String> symbolizer, Consumer<SlubReport> sink) {
        this.site = site;
        this.symbolizer = symbolizer;
        this.sink = sink;
    }

    /** A new slot: free patterns everywhere (the free pointer is written by the caller afterwards). */
    void initSlot(KmemCache cache, ObjectSlot slot, long objectPhys, int stride) {
        int flags = cache.debugFlags();
        if ((flags & SlubDebug.POISON) != 0 && cache.ctor() == 0) {
            poisonObject(slot, objectPhys);
        }
        if ((flags & SlubDebug.RED_ZONE) != 0) {
            ram.fill(objectPhys + slot.objectSize(), slot.redZoneEnd() - slot.objectSize(), (byte) RED_INACTIVE);
        }
        if ((flags & SlubDebug.TRACK) != 0) {
            ram.fill(objectPhys + slot.track(), 2 * SlubTrack.SIZE, (byte) 0);
        }
        if ((flags & SlubDebug.POISON) != 0) {
            ram.fill(objectPhys + slot.end(), stride - slot.end(), (byte) POISON_INUSE);
        }
    }

    /** The slab's tail after its last object, 0x5a under P (Linux's slab_pad_check). */
    void padSlab(KmemCache cache, long slab) {
        if ((cache.debugFlags() & SlubDebug.POISON) != 0) {
            long tail = cache.firstObject() + (long) cache.objectsPerSlab() * cache.stride();
            ram.fill(slab + tail, (PAGE << cache.slabOrder()) - tail, (byte) POISON_INUSE);
        }
    }

    /** Before handing out a free object: F checks its free patterns; then red zone active, alloc site. */
    void onAlloc(KmemCache cache, long slab, long objectPhys) {
        ObjectSlot slot = ObjectSlot.of(cache);
        int flags = cache.debugFlags();
        if ((flags & SlubDebug.CONSISTENCY) != 0) {
            checkObject(cache, slot, slab, objectPhys, false);
        }
        if ((flags & SlubDebug.RED_ZONE) != 0) {
            ram.fill(objectPhys + slot.objectSize(), slot.redZoneEnd() - slot.objectSize(), (byte) RED_ACTIVE);
        }
        if ((flags & SlubDebug.TRACK) != 0) {
            SlubTrack.write(ram, objectPhys + slot.track(), site.rip(), site.instructions(), site.cpu());
        }
    }

    /** Before freeing an allocated object: F checks; false (and reported) when it must stay allocated. */
    boolean checkFree(KmemCache cache, long slab, long objectPhys) {
        if ((cache.debugFlags() & SlubDebug.CONSISTENCY) == 0) {
            return true;
        }
        return checkObject(cache, ObjectSlot.of(cache), slab, objectPhys, true);
    }

    /** After the object is free: free site, poison, red zone inactive. */
    void onFreed(KmemCache cache, long objectPhys) {
        ObjectSlot slot = ObjectSlot.of(cache);
        int flags = cache.debugFlags();
        if ((flags & SlubDebug.TRACK) != 0) {
            SlubTrack.write(ram, objectPhys + slot.track() + SlubTrack.SIZE, site.rip(), site.instructions(), site.cpu());
        }
        if ((flags & SlubDebug.POISON) != 0 && cache.ctor() == 0) {
            poisonObject(slot, objectPhys);
        }
        if ((flags & SlubDebug.RED_ZONE) != 0) {
            ram.fill(objectPhys + slot.objectSize(), slot.redZoneEnd() - slot.objectSize(), (byte) RED_INACTIVE);
        }
    }

    /** F: a free of an object that is already free (Linux's "Object already free"). */
    void reportDoubleFree(KmemCache cache, long slab, long objectPhys) {
        if ((cache.debugFlags() & SlubDebug.CONSISTENCY) != 0) {
            List<String> lines = banner(cache, "Object already free");
            trailer(lines, cache, ObjectSlot.of(cache), slab, objectPhys);
            lines.add(String.format("FIX %s: Object at 0x%x not freed", cache.name(), virt(objectPhys)));
            sink.accept(new SlubReport(cache.name(), "Object already free", virt(objectPhys), lines));
        }
    }

    /** Checks every object of every slab of a debug cache; returns how many objects were reported. */
    int validate(KmemCache cache, List<Long> slabs) {
        int bad = 0;
        ObjectSlot slot = ObjectSlot.of(cache);
        for (long slab : slabs) {
            for (int i = 0; i < cache.objectsPerSlab(); i++) {
                long objectPhys = slab + cache.firstObject() + (long) i * cache.stride();
                if (!checkObject(cache, slot, slab, objectPhys, header.isAllocated(slab, i))) {
                    bad++;
                }
            }
        }
        return bad;
    }

    private void poisonObject(ObjectSlot slot, long objectPhys) {
        ram.fill(objectPhys, slot.objectSize() - 1, (byte) POISON_FREE);
        ram.write8(objectPhys + slot.objectSize() - 1, POISON_END);
    }

    /** Linux's check_object: red zone, poison of a free object, padding; each broken one reported and restored. */
    private boolean checkObject(KmemCache cache, ObjectSlot slot, long slab, long objectPhys, boolean allocated) {
        int flags = cache.debugFlags();
        boolean ok = true;
        if ((flags & SlubDebug.RED_ZONE) != 0) {
            ok &= checkBytes(cache, slot, slab, objectPhys, "Right Redzone", objectPhys + slot.objectSize(),
                    allocated ? RED_ACTIVE : RED_INACTIVE, slot.redZoneEnd() - slot.objectSize());
        }
        if ((flags & SlubDebug.POISON) != 0) {
            if (!allocated && cache.ctor() == 0) {
                ok &= checkBytes(cache, slot, slab, objectPhys, "Poison", objectPhys, POISON_FREE, slot.objectSize() - 1)
                        && checkBytes(cache, slot, slab, objectPhys, "End Poison", objectPhys + slot.objectSize() - 1,
                        POISON_END, 1);
            }
            ok &= checkBytes(cache, slot, slab, objectPhys, "Object padding", objectPhys + slot.end(), POISON_INUSE,
                    cache.stride() - slot.end());
        }
        return ok;
    }

    private boolean checkBytes(KmemCache cache, ObjectSlot slot, long slab, long objectPhys, String what, long start,
                               int value, int length) {
        int first = -1, last = -1;
        for (int i = 0; i < length; i++) {
            if (ram.read8(start + i) != value) {
                if (first < 0) {
                    first = i;
                }
                last = i;
            }
        }
        if (first < 0) {
            return true;
        }
        long fault = start + first;
        String reason = what + " overwritten";
        List<String> lines = banner(cache, reason);
        lines.add(String.format("INFO: 0x%x-0x%x @offset=%d. First byte 0x%x instead of 0x%x", virt(fault),
                virt(start + last), fault - slab, ram.read8(fault), value));
        trailer(lines, cache, slot, slab, objectPhys);
        lines.add(String.format("FIX %s: Restoring %s 0x%x-0x%x=0x%x", cache.name(), what, virt(fault),
                virt(start + last), value));
        sink.accept(new SlubReport(cache.name(), reason, virt(objectPhys), lines));
        ram.fill(fault, last - first + 1, (byte) value);
        return false;
    }

    private static List<String> banner(KmemCache cache, String reason) {
        List<String> lines = new ArrayList<>();
        lines.add("=".repeat(77));
        lines.add(String.format("BUG %s (Not tainted): %s", cache.name(), reason));
        lines.add("-".repeat(77));
        lines.add("");
        return lines;
    }

    /** Linux's print_trailer: sites, slab, object, then the labelled dump of the slot. */
    private void trailer(List<String> lines, KmemCache cache, ObjectSlot slot, long slab, long objectPhys) {
        if ((cache.debugFlags() & SlubDebug.TRACK) != 0) {
            track(lines, "Allocated", SlubTrack.read(ram, objectPhys + slot.track()));
            track(lines, "Freed", SlubTrack.read(ram, objectPhys + slot.track() + SlubTrack.SIZE));
        }
        lines.add(String.format("INFO: Slab 0x%x objects=%d used=%d fp=0x%x", virt(slab), cache.objectsPerSlab(),
                header.inuse(slab), header.freelist(slab)));
        lines.add(String.format("INFO: Object 0x%x @offset=%d fp=0x%x", virt(objectPhys), objectPhys - slab,
                ram.read64(objectPhys + cache.freePointerOffset())));
        lines.add("");
        if (objectPhys - slab >= cache.firstObject() + 16) {
            dump(lines, "Bytes b4 ", objectPhys - 16, 16);
        }
        dump(lines, "Object   ", objectPhys, Math.min(slot.objectSize(), (int) PAGE));
        if ((cache.debugFlags() & SlubDebug.RED_ZONE) != 0) {
            dump(lines, "Redzone  ", objectPhys + slot.objectSize(), slot.redZoneEnd() - slot.objectSize());
        }
        if (cache.stride() > slot.end()) {
            dump(lines, "Padding  ", objectPhys + slot.end(), cache.stride() - slot.end());
        }
    }

    private void track(List<String> lines, String what, SlubTrack track) {
        if (track.recorded()) {
            lines.add(String.format("INFO: %s in %s age=%d cpu=%d pid=%d", what, symbolizer.apply(track.addr()),
                    Math.max(0, site.instructions() - track.when()), track.cpu(), track.pid()));
        } else {
            lines.add(String.format("INFO: %s in (not recorded) age=0 cpu=0 pid=0", what));
        }
    }

    /** print_hex_dump with DUMP_PREFIX_ADDRESS, 16 bytes a row, ASCII on the right. */
    private void dump(List<String> lines, String label, long phys, int length) {
        for (int row = 0; row < length; row += 16) {
            StringBuilder hex = new StringBuilder();
            StringBuilder ascii = new StringBuilder();
            for (int i = row; i < Math.min(length, row + 16); i++) {
                int b = ram.read8(phys + i);
                hex.append(String.format("%02x ", b));
                ascii.append(b >= 0x20 && b < 0x7f ? (char) b : '.');
            }
            lines.add(String.format("%s%016x: %-48s %s", label, virt(phys + row), hex, ascii));
        }
    }

    private long virt(long phys) {
        return directMapBase + phys;
    }
}
