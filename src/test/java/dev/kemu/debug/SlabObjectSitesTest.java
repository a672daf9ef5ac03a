package dev.kemu.debug;

import dev.kemu.kernel.slab.SlubFixture;
import dev.kemu.machine.VirtAddr;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** whatis on a slab object names its alloc and free sites once the cache records them (--slub-debug=U). */
class SlabObjectSitesTest {

    @Test
    void underU_allocatedAndFreedAtNameTheSymbolizedCallers() {
        try (SlubFixture f = new SlubFixture("U")) {
            VirtAddr object = f.kmalloc(40, 0xffff_ffff_8010_0040L);
            f.kfree(object, 0xffff_ffff_8010_0080L);

            List<String> lines = new ArrayList<>();
            FrameFacts.describe(f.memory, f.phys(object) + 3, lines, rip -> String.format("fn_%x", rip));

            assertTrue(lines.contains("allocated at: fn_ffffffff80100040 (RIP 0xffffffff80100040, instruction 100, cpu 0)"),
                    lines.toString());
            assertTrue(lines.contains("freed at: fn_ffffffff80100080 (RIP 0xffffffff80100080, instruction 200, cpu 0)"),
                    lines.toString());
        }
    }

    @Test
    void withoutU_theSitesSayWhy() {
        try (SlubFixture f = new SlubFixture("FZ")) {
            VirtAddr object = f.kmalloc(40, 0xffff_ffff_8010_0040L);
            List<String> lines = new ArrayList<>();
            FrameFacts.describe(f.memory, f.phys(object), lines, rip -> "x");
            assertTrue(lines.contains("allocated at: " + SlabObjectFacts.SITES_NOT_RECORDED), lines.toString());
            assertEquals(1, lines.stream().filter(l -> l.startsWith("freed at: not recorded")).count(), lines.toString());
        }
    }
}
