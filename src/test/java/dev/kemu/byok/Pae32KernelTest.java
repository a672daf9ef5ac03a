package dev.kemu.byok;

import dev.kemu.testutil.GuestOutput;
import dev.kemu.testutil.QemuRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code pae32.elf}: PAE paging with EFER.NXE in 32-bit protected mode. It stores a {@code ret} in a
 * writable no-execute page at V0x40000000 and calls it with no IDT: a #PF with error code 0x11 (P, I/D)
 * that QEMU turns into a triple fault and kemu into a report walking PDPT, PD and PT that names NX in
 * the PT entry.
 */
class Pae32KernelTest {
    private static final String OUTPUT_BEFORE_THE_FAULT = """
            pae32: PAE paging on with EFER.NXE, PDPT at %s
            pae32: stored a ret at 0x40000000 (no-execute), read back 0xc3
            pae32: calling it
            """;

    @TempDir
    Path dir;

    private static Path kernel() {
        return TestKernelBuild.kernel("pae32.elf");
    }

    private static String expectedOutput() {
        return OUTPUT_BEFORE_THE_FAULT.formatted("0x" + Long.toHexString(NmSymbols.of(kernel()).address("pdpt")));
    }

    private static void assertOutputStopsAtTheFault(GuestOutput run) {
        assertEquals(expectedOutput(), run.debugConsole(), run::describe);
        assertEquals(SameAsQemu.onSerial(expectedOutput()), run.serial(), run::describe);
    }

    @Test
    void underQemu_theFetchFromTheNoExecutePageTripleFaults() {
        QemuRunner.assumeInstalled();
        GuestOutput qemu = QemuRunner.boot(kernel(), dir);
        assertOutputStopsAtTheFault(qemu);
        assertEquals(0, qemu.exitStatus(), qemu::describe);
    }

    @Test
    void underKemu_theFaultReportWalksPdptPdPtAndNamesNxInThePtEntry() {
        GuestOutput kemu = KemuCommand.boot(kernel(), dir, null);
        assertOutputStopsAtTheFault(kemu);
        assertEquals(4, kemu.exitStatus(), kemu::describe);
        String report = kemu.toolOutput();
        NmSymbols symbols = NmSymbols.of(kernel());
        String pdpt = "P0x" + Long.toHexString(symbols.address("pdpt"));
        String table = "P0x" + Long.toHexString(symbols.address("mapped_table"));
        assertTrue(report.contains("address   0x40000000 (instruction fetch, supervisor)"), kemu::describe);
        assertTrue(report.contains("error     0x11 "), kemu::describe);
        assertTrue(report.contains("reason    instruction fetch from a no-execute page: NX set in the PT entry 0 (at "
                + table + " = 0x8000"), kemu::describe);
        assertTrue(report.contains("page walk of V0x40000000 (PAE, CR3 " + pdpt + ")"), kemu::describe);
        assertTrue(report.contains("  PDPT " + pdpt + "[   1] @ "), kemu::describe);
        assertTrue(report.contains("[P W S A D NX]"), kemu::describe);
    }

    @Test
    void underKemuAndQemu_sameOutputUpToTheFault() {
        QemuRunner.assumeInstalled();
        SameAsQemu.assertSameOutput(QemuRunner.boot(kernel(), dir), KemuCommand.boot(kernel(), dir, null));
    }
}
