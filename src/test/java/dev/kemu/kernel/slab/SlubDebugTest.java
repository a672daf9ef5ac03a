package dev.kemu.kernel.slab;

import dev.kemu.kernel.mm.FreeResult;
import dev.kemu.machine.VirtAddr;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 17: --slub-debug on crafted bugs; each report's fields in Linux's shape. */
class SlubDebugTest {
    static final long ALLOC_SITE = 0xffff_ffff_8010_1234L, FREE_SITE = 0xffff_ffff_8010_5678L;

    @Test
    void offByOneWritePastAKmallocObject_isReportedAtKfree_andTheObjectIsNotFreed() {
        try (SlubFixture f = new SlubFixture("FZPU")) {
            VirtAddr object = f.kmalloc(32, ALLOC_SITE);
            f.write8(object, 32, 0x41); // p[32] = 'A': one past the end

            assertEquals(FreeResult.CORRUPTED, f.kfree(object, FREE_SITE));

            SlubReport report = single(f.reports);
            assertEquals("kmalloc-32", report.cache());
            assertEquals("Right Redzone overwritten", report.reason());
            List<String> lines = report.lines();
            assertEquals("BUG kmalloc-32 (Not tainted): Right Redzone overwritten", lines.get(1));
            long slab = object.value() & -4096L;
            assertEquals(String.format("INFO: 0x%x-0x%x @offset=%d. First byte 0x41 instead of 0xcc", object.value() + 32,
                    object.value() + 32, object.value() + 32 - slab), lines.get(4));
            assertTrue(report.text().contains(String.format("INFO: Allocated in site_%x age=100 cpu=0 pid=0", ALLOC_SITE)),
                    report.text());
            assertTrue(report.text().contains("INFO: Freed in (not recorded)"), report.text());
            assertTrue(report.text().contains(String.format("INFO: Slab 0x%x objects=", slab)), report.text());
            assertTrue(report.text().contains(String.format("Redzone  %016x: 41 cc cc cc cc cc cc cc", object.value() + 32)),
                    report.text());
            assertTrue(report.text().contains(String.format("Object   %016x: ", object.value())), report.text());
            assertTrue(!report.text().contains("Padding  "), "kmalloc-32's slot under FZPU has no padding (96 bytes)");
            assertTrue(lines.getLast().startsWith("FIX kmalloc-32: Restoring Right Redzone"), lines.getLast());
            assertEquals(0xcc, f.read8(object, 32), "the red zone is restored");
            assertEquals(FreeResult.FREED, f.kfree(object, FREE_SITE), "once restored, the object frees");
            assertEquals(1, f.reports.size());
        }
    }

    @Test
    void writeAfterKfree_isReportedAtTheNextAllocationOfThatObject_withBothSites() {
        try (SlubFixture f = new SlubFixture("FZPU")) {
            VirtAddr object = f.kmalloc(24, ALLOC_SITE);
            assertEquals(FreeResult.FREED, f.kfree(object, FREE_SITE));
            f.write8(object, 5, 0x00); // use after free

            VirtAddr again = f.kmalloc(24, ALLOC_SITE + 8);

            assertEquals(object, again, "LIFO freelist: the same object comes back");
            SlubReport report = single(f.reports);
            assertEquals("Poison overwritten", report.reason());
            assertEquals(String.format("INFO: 0x%x-0x%x @offset=%d. First byte 0x0 instead of 0x6b", object.value() + 5,
                    object.value() + 5, (object.value() & 4095) + 5), report.lines().get(4));
            assertTrue(report.text().contains(String.format("INFO: Allocated in site_%x", ALLOC_SITE)), report.text());
            assertTrue(report.text().contains(String.format("INFO: Freed in site_%x age=100", FREE_SITE)), report.text());
            assertTrue(report.text().contains(String.format("Object   %016x: 6b 6b 6b 6b 6b 00 6b", object.value())),
                    report.text());
        }
    }

    @Test
    void doubleFree_isRefused_andReportedAsObjectAlreadyFree() {
        try (SlubFixture f = new SlubFixture("F")) {
            VirtAddr object = f.kmalloc(100, ALLOC_SITE);
            assertEquals(FreeResult.FREED, f.kfree(object, FREE_SITE));

            assertEquals(FreeResult.DOUBLE_FREE, f.kfree(object, FREE_SITE));

            SlubReport report = single(f.reports);
            assertEquals("kmalloc-128", report.cache());
            assertEquals("Object already free", report.reason());
            assertEquals(String.format("FIX kmalloc-128: Object at 0x%x not freed", object.value()), report.lines().getLast());
        }
    }

    @Test
    void freeObjectsArePoisonedAndRedZonesFollowTheState() {
        try (SlubFixture f = new SlubFixture("ZP")) {
            VirtAddr object = f.kmalloc(20, ALLOC_SITE);
            assertEquals(0xcc, f.read8(object, 32), "active red zone after kmalloc-32's 32 bytes");
            f.kfree(object, FREE_SITE);
            for (int i = 0; i < 31; i++) {
                assertEquals(0x6b, f.read8(object, i), "poison byte " + i);
            }
            assertEquals(0xa5, f.read8(object, 31));
            assertEquals(0xbb, f.read8(object, 32), "inactive red zone");
            assertEquals(List.of(), f.reports);
        }
    }

    @Test
    void withoutF_corruptionWaitsForValidation() {
        try (SlubFixture f = new SlubFixture("ZP")) {
            VirtAddr object = f.kmalloc(64, ALLOC_SITE);
            f.kfree(object, FREE_SITE);
            f.write8(object, 63, 0x00);

            assertEquals(object, f.kmalloc(64, ALLOC_SITE), "no check on alloc without F");
            assertEquals(List.of(), f.reports);
            f.kfree(object, FREE_SITE);
            f.write8(object, 63, 0x00);

            assertEquals(1, f.memory.slabs().validateDebugCaches());
            assertEquals("End Poison overwritten", single(f.reports).reason());
            assertEquals(0, f.memory.slabs().validateDebugCaches(), "validation restored the poison");
        }
    }

    @Test
    void modesApplyToTheNamedCachesOnly() {
        try (SlubFixture f = new SlubFixture("FZ,kmalloc-64")) {
            VirtAddr small = f.kmalloc(32, ALLOC_SITE);
            VirtAddr named = f.kmalloc(64, ALLOC_SITE);
            f.write8(small, 32, 0x41); // next object's first byte: no red zone in kmalloc-32
            f.write8(named, 64, 0x41);

            assertEquals(FreeResult.FREED, f.kfree(small, FREE_SITE));
            assertEquals(FreeResult.CORRUPTED, f.kfree(named, FREE_SITE));
            assertEquals("kmalloc-64", single(f.reports).cache());
        }
    }

    @Test
    void slabCheckerAcceptsTheDebugLayouts() {
        try (SlubFixture f = new SlubFixture("FZPU")) {
            VirtAddr a = f.kmalloc(8, ALLOC_SITE), b = f.kmalloc(2048, ALLOC_SITE), c = f.kmalloc(300, ALLOC_SITE);
            f.kfree(b, FREE_SITE);
            assertEquals(List.of(), SlabChecker.check(f.memory.root()));
            assertNotEquals(a, c);
            assertEquals(0, f.memory.slabs().validateDebugCaches());
            assertEquals(List.of(), f.reports);
        }
    }

    @Test
    void badModeStrings_nameWhatIsWrong() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SlubDebug.parse("FX"));
        assertTrue(e.getMessage().contains("unknown mode 'X'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SlubDebug.parse(",kmalloc-8"));
        assertThrows(IllegalArgumentException.class, () -> SlubDebug.parse("F,"));
        assertEquals(SlubDebug.ALL, SlubDebug.parse("fzpu").flags());
        assertEquals(0, SlubDebug.parse("-").flags());
        assertEquals("FZPU", SlubDebug.letters(SlubDebug.ALL));
    }

    private static SlubReport single(List<SlubReport> reports) {
        assertEquals(1, reports.size(), () -> reports.toString());
        return reports.getFirst();
    }
}
