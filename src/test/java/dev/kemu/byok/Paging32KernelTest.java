package dev.kemu.byok;

import dev.kemu.testutil.GuestOutput;
import dev.kemu.testutil.QemuRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code paging32.elf}: 32-bit paging with the mirroring trick (PD entry 1023 names the page directory).
 * It maps V0x40000000 by writing its PTE through the mirror window, uses it, unmaps it and reads it
 * again with no IDT: a #PF that QEMU turns into a triple fault (exit 0 with {@code -no-reboot}) and kemu
 * into a fault report in 32-bit terms. {@code kemu explain} names the recursive entry and what its
 * window shows.
 */
class Paging32KernelTest {
    private static final String OUTPUT_BEFORE_THE_FAULT = """
            paging32: paging on, directory at %1$s
            paging32: PD entry 1023 read through the mirror: %2$s
            paging32: mapped 0x40000000 through its PTE at 0xffd00000
            paging32: data page (identity) holds 0x5a17e32
            paging32: unmapped 0x40000000, reading it
            """;
    private static final int QEMU_RESET_STATUS = 0;
    private static final int KEMU_BOOT_FAILED = 4;

    @TempDir
    Path dir;

    private static Path kernel() {
        return TestKernelBuild.kernel("paging32.elf");
    }

    /** The directory's address, and PD entry 1023 as the CPU left it: P, W and the accessed bit it set. */
    private static String expectedOutput() {
        long directory = NmSymbols.of(kernel()).address("page_directory");
        return OUTPUT_BEFORE_THE_FAULT.formatted("0x" + Long.toHexString(directory),
                "0x" + Long.toHexString(directory | 0x23));
    }

    private static void assertOutputStopsAtTheFault(GuestOutput run) {
        assertEquals(expectedOutput(), run.debugConsole(), run::describe);
        assertEquals(SameAsQemu.onSerial(expectedOutput()), run.serial(), run::describe);
    }

    @Test
    void underQemu_mapsThroughTheMirrorThenFaultsOnTheUnmappedPage() {
        QemuRunner.assumeInstalled();
        GuestOutput qemu = QemuRunner.boot(kernel(), dir);
        assertOutputStopsAtTheFault(qemu);
        assertEquals(QEMU_RESET_STATUS, qemu.exitStatus(), qemu::describe);
    }

    @Test
    void underKemu_theFaultReportWalksPdAndPtWithTenBitIndices() {
        GuestOutput kemu = KemuCommand.boot(kernel(), dir, null);
        assertOutputStopsAtTheFault(kemu);
        assertEquals(KEMU_BOOT_FAILED, kemu.exitStatus(), kemu::describe);
        String report = kemu.toolOutput();
        String table = "P0x" + Long.toHexString(NmSymbols.of(kernel()).address("mapped_table"));
        assertTrue(report.contains("reason    PT entry 0 not present (entry at " + table + ")"), kemu::describe);
        assertTrue(report.contains("page walk of V0x40000000 (32-bit paging, CR3 P0x"), kemu::describe);
        assertTrue(report.contains("dword ptr [0x40000000]"), () -> "disassembled as 32-bit code\n" + kemu.describe());
        assertTrue(report.contains("  PD   P0x") && report.contains("[ 256] @ "), () -> "PD index 256\n" + kemu.describe());
        assertTrue(report.contains("  PT   " + table + "[   0] @ " + table + " = 0x00000000 [not present]"),
                kemu::describe);
    }

    @Test
    void underKemuAndQemu_sameOutputUpToTheFault() {
        QemuRunner.assumeInstalled();
        SameAsQemu.assertSameOutput(QemuRunner.boot(kernel(), dir), KemuCommand.boot(kernel(), dir, null));
    }

    @Test
    void explain_namesTheMirrorAndShowsAnAddressInItsWindowAsAPageTable() {
        String text = KemuExplain.explain(kernel(), "0xffd00000");
        assertTrue(text.contains("paging: 32-bit paging"), text);
        assertTrue(text.contains("recursive mapping: PD entry 1023 maps the page directory itself: page tables at "
                + "V0xffc00000-V0xffffffff, the page directory at V0xfffff000"), text);
        assertTrue(text.contains("this address: the page table for V0x40000000-V0x403fffff, seen through the recursive "
                + "PD entry 1023; offset 0x0 is its entry 0, for V0x40000000"), text);
        String directory = KemuExplain.explain(kernel(), "0xfffff400");
        assertTrue(directory.contains("this address: the page directory itself (P0x"), directory);
        assertTrue(directory.contains("offset 0x400 is its entry 256, for V0x40000000"), directory);
    }

    /** With "mirror": a read of the page table of V0x4b000000 through the window, which does not exist. */
    @Test
    void faultInsideTheMirrorWindow_reportSaysWhichPageTableTheAddressIs() {
        GuestOutput kemu = KemuCommand.boot(kernel(), dir, "mirror");
        assertTrue(kemu.debugConsole().endsWith("paging32: reading the page table of 0x4b000000 through the mirror\n"),
                kemu::describe);
        assertTrue(kemu.toolOutput().contains("address   0xffd2c000 (read, supervisor)"), kemu::describe);
        assertTrue(kemu.toolOutput().contains("V0xffd2c000 lies in a recursive window: it is the page table for "
                + "V0x4b000000-V0x4b3fffff, seen through the recursive PD entry 1023"), kemu::describe);
    }

    @Test
    void faultInsideTheMirrorWindow_underKemuAndQemu_sameOutputUpToTheFault() {
        QemuRunner.assumeInstalled();
        SameAsQemu.assertSameOutput(QemuRunner.boot(kernel(), dir, "mirror"), KemuCommand.boot(kernel(), dir, "mirror"));
    }
}
