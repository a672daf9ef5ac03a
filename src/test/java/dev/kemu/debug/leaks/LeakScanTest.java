package dev.kemu.debug.leaks;

import dev.kemu.kernel.MmFixture;
import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.MmLayout;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The scan over plain memory: which allocated objects a pointer in a root, a register or another object keeps. */
class LeakScanTest {
    private final MmFixture mm = new MmFixture();
    /** A page the tests use as the kernel's .data: a root range, named by its direct-map address. */
    private final long data = mm.memory.frames().allocate(0, FrameType.KERNEL_IMAGE, true).orElseThrow().value();

    private long kmalloc(long size) {
        return mm.memory.kmalloc().allocate(size, true).orElseThrow().value();
    }

    private long phys(long va) {
        return mm.root().toPhysical(VirtAddr.of(va)).value();
    }

    private void store(long va, long offset, long value) {
        mm.ram.write64(phys(va) + offset, value);
    }

    private ScanRoots roots(Long... registers) {
        long dataVa = mm.root().toVirtual(PhysAddr.of(data)).value();
        return new ScanRoots(MmFixture.PML4, List.of(new ScanRoots.Range("data", dataVa, dataVa + MmLayout.PAGE)),
                List.of(registers));
    }

    private List<Long> leaked(ScanRoots roots) {
        return leaked(roots, PhysicalAliases.IGNORED);
    }

    private List<Long> leaked(ScanRoots roots, PhysicalAliases aliases) {
        return LeakScan.run(mm.memory, roots, AllocationSites.NOT_RECORDED, aliases).leaks().stream()
                .map(o -> o.address().value()).toList();
    }

    @Test
    void aCacheDescriptorABugOverwrote_isNotTrusted_andTheScanStaysInsideRam() {
        long dropped = kmalloc(24);
        int cache = mm.memory.root().kmallocFirstCache() + 2; // kmalloc-32
        long descriptor = dev.kemu.kernel.slab.KmemCache.of(mm.root(), cache).phys().value();
        int perSlab = mm.ram.read32(descriptor + dev.kemu.kernel.slab.CacheLayout.PER_SLAB);
        mm.ram.write32(descriptor + dev.kemu.kernel.slab.CacheLayout.PER_SLAB, 0x7fff_ffff);
        assertEquals(List.of(), leaked(roots()), "kmalloc-32's objects are skipped, not 2^31 of them tracked");
        mm.ram.write32(descriptor + dev.kemu.kernel.slab.CacheLayout.PER_SLAB, perSlab);
        assertEquals(List.of(dropped), leaked(roots()), "a sound descriptor again: the leak is found");
    }

    @Test
    void droppedKmalloc_isReported_andOneHeldInData_isNot() {
        long dropped = kmalloc(24);
        long kept = kmalloc(24);
        mm.ram.write64(data + 8, kept);
        assertEquals(List.of(dropped), leaked(roots()));
    }

    @Test
    void pointerOnlyInARegister_keepsItsObject() {
        long held = kmalloc(100);
        assertEquals(List.of(), leaked(roots(0L, held)));
        assertEquals(List.of(held), leaked(roots()));
    }

    @Test
    void unreachableCycle_isReportedWhole_andAReachableOneIsNot() {
        long a = kmalloc(64);
        long b = kmalloc(64);
        store(a, 0, b);
        store(b, 0, a);
        assertEquals(List.of(a, b).stream().sorted().toList(), leaked(roots()).stream().sorted().toList());
        mm.ram.write64(data, a);
        assertEquals(List.of(), leaked(roots()));
    }

    @Test
    void interiorPointer_keepsItsObject_butAPointerPastTheObjectDoesNot() {
        long inner = kmalloc(64);
        long past = kmalloc(64);
        mm.ram.write64(data, inner + 40);
        mm.ram.write64(data + 16, past + 64); // one past the end is the next object, which is not allocated
        assertEquals(List.of(past), leaked(roots()));
    }

    @Test
    void physicalAddress_keepsItsObjectOnlyWhenPhysicalAliasesCount() {
        long alias = kmalloc(64);
        mm.ram.write64(data + 8, phys(alias) + 8);
        assertEquals(List.of(alias), leaked(roots()));
        assertEquals(List.of(), leaked(roots(), PhysicalAliases.COUNTED));
    }

    @Test
    void vmallocArea_isReportedWhenDropped_andKeptThroughAnObjectThatIsReachable() {
        long area = mm.memory.vmalloc().allocate(3 * MmLayout.PAGE).orElseThrow().value();
        LeakReport report = LeakScan.run(mm.memory, roots(), AllocationSites.NOT_RECORDED);
        assertEquals(List.of(area), report.leaks().stream().map(o -> o.address().value()).toList());
        assertEquals(LeakKind.VMALLOC, report.leaks().getFirst().kind());
        assertEquals(3 * MmLayout.PAGE, report.leaks().getFirst().size());
        long holder = kmalloc(16);
        store(holder, 8, area + 2 * MmLayout.PAGE + 100);
        mm.ram.write64(data, holder);
        assertEquals(List.of(), leaked(roots()));
    }

    @Test
    void pointerInsideAVmallocArea_keepsWhatItPointsAt() {
        long area = mm.memory.vmalloc().allocate(2 * MmLayout.PAGE).orElseThrow().value();
        long object = kmalloc(2000);
        long secondPage = mm.memory.pageTables().translate(VirtAddr.of(area + MmLayout.PAGE)).orElseThrow().value();
        mm.ram.write64(secondPage + 16, object);
        mm.ram.write64(data, area);
        assertEquals(List.of(), leaked(roots()));
    }

    @Test
    void largeKmallocAndCacheObjects_areTrackedWithTheirOwners() {
        long pages = kmalloc(10_000);
        int cache = mm.memory.slabs().create("demo_cache", 48, 16, null).orElseThrow();
        long object = mm.memory.slabs().allocate(cache, true).orElseThrow().value();
        store(object, 0, 0x4b454d55L); // "UMEK"
        LeakReport report = LeakScan.run(mm.memory, roots(), AllocationSites.NOT_RECORDED);
        assertEquals(2, report.leaks().size(), report.text());
        TrackedObject large = report.leaks().stream().filter(o -> o.address().value() == pages).findFirst().orElseThrow();
        assertEquals(LeakKind.PAGES, large.kind());
        assertEquals(16384, large.size());
        String text = report.text();
        assertTrue(text.contains(String.format("unreferenced object V0x%016x (size 48):", object))
                || text.contains(String.format("unreferenced object %s (size 48):", VirtAddr.of(object))), text);
        assertTrue(text.contains("  cache: demo_cache, first byte at P0x"), text);
        assertTrue(text.contains("    55 4d 45 4b 00 00 00 00"), text);
        assertTrue(text.contains("UMEK"), text);
        assertTrue(text.contains("  allocated at: allocation site not recorded (needs --slub-debug=U)"), text);
    }

    @Test
    void recordedAllocationSite_isPrinted() {
        long dropped = kmalloc(8);
        LeakReport report = LeakScan.run(mm.memory, roots(),
                object -> object.address().value() == dropped ? Optional.of("kmain+0x12 (insn 345)") : Optional.empty());
        assertTrue(report.text().contains("  allocated at: kmain+0x12 (insn 345)\n"), report.text());
    }

    @Test
    void allocatorMetadata_isNeitherTrackedNorARoot() {
        // vmalloc leaves vm_area nodes (metadata) that point at nothing the scan tracks; freed objects are not tracked.
        long area = mm.memory.vmalloc().allocate(MmLayout.PAGE).orElseThrow().value();
        mm.memory.vmalloc().free(VirtAddr.of(area));
        long freed = kmalloc(32);
        mm.memory.kmalloc().free(VirtAddr.of(freed));
        LeakReport report = LeakScan.run(mm.memory, roots(), AllocationSites.NOT_RECORDED);
        assertEquals(0, report.tracked(), report.text());
        assertTrue(report.isEmpty());
    }
}
