package dev.kemu.kernel.kasan;

import dev.kemu.kernel.mm.FrameTable;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.mm.KernelPanic;
import dev.kemu.kernel.mm.Vma;
import dev.kemu.kernel.mm.VmaKind;
import dev.kemu.kernel.slab.SlabAllocator;
import dev.kemu.kernel.slab.SlubTrack;
import dev.kemu.machine.Disassembler;
import dev.kemu.machine.Machine;
import dev.kemu.machine.PageFaultCode;
import dev.kemu.machine.VirtAddr;
import dev.kemu.unicorn.X86Reg;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.LongFunction;

/**
 * --kasan: guest accesses to free slab objects, to the bytes around them (red zone, metadata,
 * padding) and to vmalloc guard pages, caught at the faulting instruction. Each slab page gets its
 * own memory hook, in every CPU's engine, while it belongs to a cache (so only accesses to slab memory reach
 * Java); the verdict is read from the slab's state in guest RAM ({@link SlabShadow}). A vmalloc guard page is
 * unmapped, so the access is a #PF, which {@link #pageFault} turns into a report before the fault
 * takes its usual course. Like Linux, the access itself then goes ahead.
 */
public final class Kasan implements SlabAllocator.SlabWatcher {
    private static final String RULE = "=".repeat(66);

    /** Every CPU's machine, cpu0 first: each is its own engine with its own hooks. */
    private final List<Machine> cpus;
    private final KernelMemory memory;
    private final SlabShadow shadow;
    private final long directMapBase;
    private final LongFunction<String> symbolizer;
    private final Consumer<KasanReport> sink;
    private final Map<Long, List<Machine.Subscription>> hooks = new HashMap<>();
    /** Whether a slab came or went since the hooks were last made from guest RAM ({@link #slabsRestored}). */
    private boolean slabsChanged;

    public Kasan(List<Machine> cpus, KernelMemory memory, LongFunction<String> symbolizer, Consumer<KasanReport> sink) {
        this.cpus = List.copyOf(cpus);
        this.memory = memory;
        this.shadow = new SlabShadow(memory.root(), FrameTable.of(memory.root()));
        this.directMapBase = memory.root().directMapBase().value();
        this.symbolizer = symbolizer;
        this.sink = sink;
        memory.slabs().watchSlabs(this);
    }

    /**
     * Guest RAM was restored (a test harness snapshot): slabs released since have come back and slabs made
     * since are gone, so the hooks are redone from the slabs in RAM, unless none came or went since the last time.
     */
    public void slabsRestored() {
        if (!slabsChanged) {
            return;
        }
        closeHooks();
        memory.slabs().watchSlabs(this);
        slabsChanged = false;
    }

    /** How many slabs are watched now (each one memory hook per CPU). */
    public int watchedSlabs() {
        return hooks.size();
    }

    @Override
    public void added(long slabPhys, long bytes) {
        slabsChanged = true;
        List<Machine.Subscription> cpuHooks = new ArrayList<>(cpus.size());
        for (int cpu = 0; cpu < cpus.size(); cpu++) {
            int id = cpu;
            cpuHooks.add(cpus.get(cpu).onMemoryAccess(slabPhys, slabPhys + bytes - 1, true, true,
                    (write, pa, size, value) -> onSlabAccess(id, write, pa, size)));
        }
        List<Machine.Subscription> old = hooks.put(slabPhys, cpuHooks);
        if (old != null) {
            old.forEach(Machine.Subscription::close);
        }
    }

    @Override
    public void removed(long slabPhys) {
        slabsChanged = true;
        List<Machine.Subscription> cpuHooks = hooks.remove(slabPhys);
        if (cpuHooks != null) {
            cpuHooks.forEach(Machine.Subscription::close);
        }
    }

    /** A guest access by {@code cpu} to a watched slab page: reported when any byte it touches is poisoned. */
    private void onSlabAccess(int cpu, boolean write, long pa, int size) {
        SlabShadow.Place place = shadow.locate(pa);
        if (place == null) {
            return; // the page left its slab (a restored snapshot): nothing is known about it
        }
        if (!place.poisoned()) {
            if (pa + size <= place.regionEnd()) {
                return;
            }
            SlabShadow.Place next = shadow.locate(place.regionEnd());
            if (next == null || !next.poisoned()) {
                return;
            }
            place = new SlabShadow.Place(place.cache(), place.slab(), place.index(), place.objectPhys(),
                    place.allocated(), true, next.kind(), place.regionEnd());
        }
        reportSlab(cpu, write, pa, size, place);
    }

    private void reportSlab(int cpu, boolean write, long pa, int size, SlabShadow.Place place) {
        long rip = cpus.get(cpu).register(X86Reg.RIP);
        String symbol = symbolizer.apply(rip);
        long address = directMapBase + pa;
        long object = directMapBase + place.objectPhys();
        int objectSize = place.cache().objectSize();
        List<String> lines = header(place.kind(), symbol, write, size, address, cpu);
        String alloc = site(lines, "Allocated", SlubTrack.of(place.cache(), place.objectPhys(), SlubTrack.ALLOC));
        String free = site(lines, "Freed", SlubTrack.of(place.cache(), place.objectPhys(), SlubTrack.FREE));
        lines.add("");
        lines.add(String.format("The buggy address belongs to the object at %x", object));
        lines.add(String.format(" which belongs to the cache %s of size %d", place.cache().name(), objectSize));
        located(lines, address, object, objectSize, place.allocated() ? "allocated" : "freed");
        lines.add(RULE);
        sink.accept(new KasanReport(place.kind(), write, address, size, rip, cpu, symbol, place.cache().name(), object,
                objectSize, address - object, alloc, free, lines));
    }

    /**
     * A #PF the kernel services did not resolve: a report when it hit a vmalloc guard page. The
     * access size comes from the faulting instruction's memory operand.
     */
    public void pageFault(long cr2, int errorCode, long rip, Machine cpu) {
        try {
            reportGuardHit(cr2, errorCode, rip, Math.max(0, cpus.indexOf(cpu)));
        } catch (KernelPanic corrupt) {
            // the VMA list is corrupt: the fault handler, which walked it first, reports that
        }
    }

    private void reportGuardHit(long cr2, int errorCode, long rip, int cpu) {
        Optional<Vma> guard = memory.areas().find(VirtAddr.of(cr2)).filter(v -> v.kind() == VmaKind.GUARD);
        if (guard.isEmpty()) {
            return;
        }
        Optional<Vma> area = memory.areas().find(VirtAddr.of(guard.get().start().value() - 1))
                .filter(v -> v.kind() == VmaKind.VMALLOC);
        boolean write = errorCode >= 0 && (errorCode & PageFaultCode.WRITE) != 0;
        int size = instructionAccessSize(cpus.get(cpu), rip);
        String symbol = symbolizer.apply(rip);
        String kind = "vmalloc-out-of-bounds";
        List<String> lines = header(kind, symbol, write, size, cr2, cpu);
        lines.add("");
        long start = area.map(v -> v.start().value()).orElse(guard.get().start().value());
        long end = guard.get().start().value();
        lines.add("The buggy address belongs to the virtual mapping at");
        lines.add(String.format(" [%x, %x) created by vmalloc (HC_VMALLOC)", start, end));
        lines.add(String.format("The buggy address is in the guard page [%x, %x) after it",
                guard.get().start().value(), guard.get().end().value()));
        located(lines, cr2, start, (int) (end - start), "allocated");
        lines.add(RULE);
        sink.accept(new KasanReport(kind, write, cr2, size, rip, cpu, symbol, "vmalloc", start, (int) (end - start),
                cr2 - start, "", "", lines));
    }

    private static int instructionAccessSize(Machine cpu, long rip) {
        byte[] code = cpu.virtualMemory().read(rip, 15);
        try (Disassembler disassembler = new Disassembler()) {
            List<Disassembler.Instruction> insns = disassembler.disassemble(code, rip, 1);
            return insns.isEmpty() ? 0 : AccessSize.of(insns.getFirst().operands());
        } catch (RuntimeException e) { // no Capstone: the size stays unknown, and the report says so
            return 0;
        }
    }

    private static List<String> header(String kind, String symbol, boolean write, int size, long address, int cpu) {
        List<String> lines = new ArrayList<>();
        lines.add(RULE);
        lines.add("BUG: KASAN: " + kind + " in " + symbol);
        String sizeText = size > 0 ? "of size " + size : "of unknown size";
        lines.add(String.format("%s %s at addr %x by task kernel/0 (cpu %d; kemu has no tasks)", write ? "Write" : "Read",
                sizeText, address, cpu));
        return lines;
    }

    /** Linux's describe_object_addr: inside, or to the left or right of, the region. */
    private static void located(List<String> lines, long address, long object, int objectSize, String state) {
        String relation;
        long bytes;
        if (Long.compareUnsigned(address, object) < 0) {
            relation = "to the left of";
            bytes = object - address;
        } else if (Long.compareUnsigned(address, object + objectSize) >= 0) {
            relation = "to the right of";
            bytes = address - (object + objectSize);
        } else {
            relation = "inside of";
            bytes = address - object;
        }
        lines.add(String.format("The buggy address is located %d bytes %s", bytes, relation));
        lines.add(String.format(" %s %d-byte region [%x, %x)", state, objectSize, object, object + objectSize));
    }

    /** "Allocated by ..." with the symbolized caller; returns the symbol, "" when not recorded. */
    private String site(List<String> lines, String what, Optional<SlubTrack> track) {
        if (track.isEmpty() || !track.get().recorded()) {
            if (what.equals("Allocated")) {
                lines.add("");
                lines.add("Allocated by: not recorded (the cache was created without --slub-debug=U)");
            }
            return "";
        }
        SlubTrack t = track.get();
        String symbol = symbolizer.apply(t.addr());
        lines.add("");
        lines.add(String.format("%s by task %d on cpu %d at instruction %d:", what, t.pid(), t.cpu(), t.when()));
        lines.add(" " + symbol);
        return symbol;
    }

    /** Removes every hook (the run is over). */
    public void close() {
        closeHooks();
    }

    private void closeHooks() {
        hooks.values().forEach(cpuHooks -> cpuHooks.forEach(Machine.Subscription::close));
        hooks.clear();
    }
}
