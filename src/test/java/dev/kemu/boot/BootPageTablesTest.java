package dev.kemu.boot;

import dev.kemu.elf.Segment;
import dev.kemu.kernel.GuestAbi;
import dev.kemu.machine.PageWalk;
import dev.kemu.machine.VirtAddr;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Walks the page tables after a real boot, reading guest RAM from Java: boot.S's tables
 * (identity first GiB + higher half), which the CPU uses until trampoline.S reaches the
 * higher half, and the kernel's own PML4 it then switches to (kernel half shared, lower half
 * empty), which is CR3 from kmain on.
 */
@ExtendWith(BootedDefaultKernel.Resolver.class)
class BootPageTablesTest {
    private static final int KERNEL_HALF_FIRST = 256;
    private static BootedDefaultKernel booted;
    private static KernelBoot boot;
    private static BootReport report;

    @BeforeAll
    static void bootOnce(BootedDefaultKernel kernel) {
        booted = kernel;
        boot = kernel.boot();
        report = kernel.report();
    }

    private static long physicalOf(String symbol) {
        return booted.physicalOf(symbol);
    }

    private static long entry(long table, int index) {
        return booted.tableEntry(table, index);
    }

    @Test
    void bootTables_mapEveryKernelPageFromItsVmaToItsLma() {
        assertTrue(report.succeeded(), report.failure().orElse(""));
        long bootPml4 = physicalOf("boot_pml4");
        int pages = 0;
        for (Segment segment : boot.kernel().segments()) {
            for (long offset = 0; offset < segment.memSize(); offset += 0x1000) {
                PageWalk walk = boot.machine().pageWalker().walk(bootPml4, VirtAddr.of(segment.vaddr() + offset));
                assertTrue(walk.mapped(), walk.describe());
                assertEquals(segment.paddr() + offset, walk.physical().get().value(), walk.describe());
                assertTrue(walk.writable(), walk.describe());
                pages++;
            }
        }
        assertTrue(pages > 4, "walked " + pages + " pages");
    }

    @Test
    void kernelTables_mapEveryKernelPageThroughTheHigherHalfOnly() {
        long cr3 = report.run().cpu().cr3();
        int pages = 0;
        for (Segment segment : boot.kernel().segments()) {
            // .boot* has VMA = LMA: after the switch it is reached through the image alias.
            boolean identity = Long.compareUnsigned(segment.vaddr(), GuestAbi.KERNEL_VMA) < 0;
            long higherHalf = identity ? segment.vaddr() + GuestAbi.KERNEL_VMA : segment.vaddr();
            for (long offset = 0; offset < segment.memSize(); offset += 0x1000) {
                PageWalk walk = boot.machine().pageWalker().walk(cr3, VirtAddr.of(higherHalf + offset));
                assertTrue(walk.mapped(), walk.describe());
                assertEquals(segment.paddr() + offset, walk.physical().get().value(), walk.describe());
                assertTrue(walk.writable(), walk.describe());
                if (identity) {
                    PageWalk low = boot.machine().pageWalker().walk(cr3, VirtAddr.of(segment.vaddr() + offset));
                    assertFalse(low.mapped(), "identity address still mapped: " + low.describe());
                }
                pages++;
            }
        }
        assertTrue(pages > 4, "walked " + pages + " pages");
    }

    @Test
    void bootTables_higherHalfUses2MiBPagesThroughPml4Slot511AndLeavesTheRestUnmapped() {
        long cr3 = report.run().cpu().cr3();
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

    @Test
    void kernelTables_fromKmainOn_cr3IsTheKernelPml4WithAnEmptyLowerHalf() {
        long kernelPml4 = physicalOf("kernel_pml4");
        assertEquals(kernelPml4, report.stage(BootStage.KMAIN).orElseThrow().cpu().cr3(), "CR3 at kmain");
        assertEquals(kernelPml4, report.run().cpu().cr3(), "CR3 at the end of the boot");
        for (int index = 0; index < KERNEL_HALF_FIRST; index++) {
            assertEquals(0, entry(kernelPml4, index), "kernel PML4 entry " + index);
        }
        PageWalk nullPage = boot.machine().pageWalker().walk(kernelPml4, VirtAddr.of(0));
        assertFalse(nullPage.mapped(), nullPage.describe());
        assertEquals("PML4 entry 0 not present", nullPage.stopReason());
        assertNotEquals(0, entry(physicalOf("boot_pml4"), 0), "the boot tables keep their identity slot (unused)");
    }

    @Test
    void kernelTables_shareTheBootTablesKernelHalf_andAddTheDirectMapThere() {
        long kernelPml4 = physicalOf("kernel_pml4");
        long bootPml4 = physicalOf("boot_pml4");
        long highPdpt = physicalOf("boot_pdpt_high");
        assertEquals(highPdpt, entry(bootPml4, 511) & 0x000f_ffff_ffff_f000L, "boot PML4[511]");
        assertEquals(entry(bootPml4, 511), entry(kernelPml4, 511), "PML4[511]: the same PDPT, the same flags");
        for (int index = KERNEL_HALF_FIRST; index < 512; index++) {
            long boot = entry(bootPml4, index);
            if (boot != 0) {
                assertEquals(boot, entry(kernelPml4, index), "kernel-half PML4 entry " + index + " shared");
            }
        }
        // HC_MM_INIT ran on the kernel's tables: its direct map (slot 256) is there, not in the boot PML4.
        assertTrue((entry(kernelPml4, 256) & 1) != 0, "direct map slot 256 present in the kernel PML4");
        PageWalk direct = boot.machine().pageWalker().walk(kernelPml4, VirtAddr.of(0xffff_8000_0000_1000L));
        assertEquals(0x1000, direct.physical().orElseThrow().value(), direct.describe());
    }
}
