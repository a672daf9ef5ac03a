package dev.kemu.boot;

import dev.kemu.elf.Segment;
import dev.kemu.kernel.GuestAbi;
import dev.kemu.machine.PageWalk;
import dev.kemu.machine.VirtAddr;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Walks the page tables boot.S built, reading guest RAM from Java, after a real boot. */
class BootPageTablesTest {

    @Test
    void bootTables_mapEveryKernelPageFromItsVmaToItsLma() {
        try (KernelBoot boot = new KernelBoot(TestKernels.defaultKernel(), BootOptions.defaults())) {
            BootReport report = boot.run();
            assertTrue(report.succeeded(), report.failure().orElse(""));
            long cr3 = report.run().cpu().cr3();
            int pages = 0;
            for (Segment segment : boot.kernel().segments()) {
                for (long offset = 0; offset < segment.memSize(); offset += 0x1000) {
                    PageWalk walk = boot.machine().pageWalker().walk(cr3, VirtAddr.of(segment.vaddr() + offset));
                    assertTrue(walk.mapped(), walk.describe());
                    assertEquals(segment.paddr() + offset, walk.physical().get().value(), walk.describe());
                    assertTrue(walk.writable(), walk.describe());
                    pages++;
                }
            }
            assertTrue(pages > 4, "walked " + pages + " pages");
        }
    }

    @Test
    void bootTables_higherHalfUses2MiBPagesThroughPml4Slot511AndLeavesTheRestUnmapped() {
        try (KernelBoot boot = new KernelBoot(TestKernels.defaultKernel(), BootOptions.defaults())) {
            long cr3 = boot.run().run().cpu().cr3();
            PageWalk kmain = boot.machine().pageWalker().walk(cr3, VirtAddr.of(boot.symbols().address("kmain")));
            assertEquals(3, kmain.levels().size(), kmain.describe());
            assertEquals(511, kmain.levels().get(0).index());
            assertEquals(510, kmain.levels().get(1).index());
            assertEquals(2L << 20, kmain.pageSize());
            assertEquals(boot.symbols().address("kmain") - GuestAbi.KERNEL_VMA, kmain.physical().get().value());

            PageWalk unmapped = boot.machine().pageWalker().walk(cr3, VirtAddr.of(0xffff_a000_0000_0000L));
            assertFalse(unmapped.mapped());
            assertEquals("PML4 entry 320 not present", unmapped.stopReason());
        }
    }
}
