package dev.kemu.debug.leaks;

import dev.kemu.kernel.slab.SlubFixture;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A leak's allocation site comes from the store-user track when the cache keeps one, and says so when not. */
class SlubAllocationSitesTest {
    private static final long CALLER = 0xffff_ffff_8010_1234L;

    private static LeakReport scan(SlubFixture slub) {
        ScanRoots noRoots = new ScanRoots(0x1000, List.of(), List.of());
        return LeakScan.run(slub.memory, noRoots, new SlubAllocationSites(slub.memory, a -> String.format("site_%x", a)));
    }

    @Test
    void withStoreUser_theLeakNamesItsAllocatingCaller() {
        try (SlubFixture slub = new SlubFixture("U")) {
            slub.kmalloc(24, CALLER);
            LeakReport report = scan(slub);
            assertEquals(1, report.leaks().size(), report.text());
            assertTrue(report.text().contains("allocated at: site_ffffffff80101234 (RIP 0xffffffff80101234, instruction "),
                    report.text());
        }
    }

    @Test
    void withoutStoreUser_theSiteIsSaidToBeUnrecorded() {
        try (SlubFixture slub = new SlubFixture("FZ")) {
            slub.kmalloc(24, CALLER);
            LeakReport report = scan(slub);
            assertEquals(1, report.leaks().size(), report.text());
            assertTrue(report.text().contains(AllocationSites.NOT_RECORDED_TEXT), report.text());
        }
    }
}
