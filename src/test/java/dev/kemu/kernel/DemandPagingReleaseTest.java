package dev.kemu.kernel;

import dev.kemu.kernel.mm.DemandPaging;
import dev.kemu.kernel.mm.FreeResult;
import dev.kemu.kernel.mm.PageTables;
import dev.kemu.machine.PageFaultCode;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.VirtAddr;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.UniqueElements;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11: HC_VMA_RELEASE of a huge, sparsely touched VMA. The release skips absent page-table
 * ranges; what must hold is that every touched page is unmapped and every frame (data and the
 * tables the touches created) is back.
 */
class DemandPagingReleaseTest {
    private static final long GIB = 1L << 30;
    private static final int PAGES_PER_GIB = (int) (GIB / 4096);

    @Property(tries = 15)
    void releaseOfAOneGibVma_withFewTouchedPages_unmapsThemAndReturnsEveryFrame(
            @ForAll @Size(min = 0, max = 6) @UniqueElements List<@IntRange(min = 0, max = PAGES_PER_GIB - 1) Integer> touched) {
        try (MmFixture mm = new MmFixture()) {
            DemandPaging paging = mm.memory.demandPaging();
            long start = paging.reserve(GIB, PageTableEntry.WRITABLE).orElseThrow().value();
            List<String> beforeTouches = mm.frameState();
            for (int page : touched) {
                assertEquals(DemandPaging.Outcome.MAPPED,
                        paging.handleFault(VirtAddr.of(start + page * 4096L), PageFaultCode.WRITE));
            }

            assertEquals(FreeResult.FREED, paging.release(VirtAddr.of(start)));

            PageTables tables = mm.memory.pageTables();
            for (int page : touched) {
                assertTrue(tables.translate(VirtAddr.of(start + page * 4096L)).isEmpty(), "page " + page + " still mapped");
            }
            assertEquals(beforeTouches, mm.frameState(), "frames and page tables the touches took are all back");
            assertTrue(mm.memory.areas().vmas().stream().noneMatch(v -> v.contains(VirtAddr.of(start))), "the VMA is gone");
            assertEquals(List.of(), mm.memory.check());
        }
    }

    @Property(tries = 30)
    void nextMaybeMapped_findsExactlyTheTouchedPages_inAddressOrder(
            @ForAll @Size(min = 0, max = 8) @UniqueElements List<@IntRange(min = 0, max = PAGES_PER_GIB - 1) Integer> touched) {
        try (MmFixture mm = new MmFixture()) {
            DemandPaging paging = mm.memory.demandPaging();
            long start = paging.reserve(GIB, PageTableEntry.WRITABLE).orElseThrow().value();
            touched.forEach(page -> paging.handleFault(VirtAddr.of(start + page * 4096L), PageFaultCode.WRITE));
            PageTables tables = mm.memory.pageTables();
            VirtAddr end = VirtAddr.of(start + GIB);

            List<Long> found = new java.util.ArrayList<>();
            for (VirtAddr at = tables.nextMaybeMapped(VirtAddr.of(start), end); !at.equals(end);
                 at = tables.nextMaybeMapped(at.plus(4096), end)) {
                if (tables.translate(at).isPresent()) {
                    found.add((at.value() - start) / 4096);
                }
            }

            assertEquals(touched.stream().map(Integer::longValue).sorted().toList(), found);
        }
    }
}
