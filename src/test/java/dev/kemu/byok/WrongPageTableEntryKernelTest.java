package dev.kemu.byok;

import dev.kemu.testutil.GuestOutput;
import dev.kemu.testutil.QemuRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code badpte64}: a 64-bit higher-half kernel whose page table maps eight pages at 0xffffffff81000000
 * but leaves W clear in PT entry 5, with CR0.WP set and no IDT. The write to page 5 faults. On a PC
 * (QEMU) that is a triple fault and a reset, which {@code -no-reboot} turns into QEMU exiting with 0;
 * kemu stops with a fault report that names the entry. Comparable between the two: the output up
 * to the fault.
 */
class WrongPageTableEntryKernelTest {
    private static final String OUTPUT_BEFORE_THE_FAULT = """
            badpte64: mapped 8 pages at 0xffffffff81000000
            badpte64: wrote page 4
            badpte64: writing page 5
            """;
    private static final String FAULTING_ADDRESS = "0xffffffff81005000";
    private static final int QEMU_RESET_STATUS = 0;   // triple fault, reset, -no-reboot: QEMU exits normally
    private static final int KEMU_BOOT_FAILED = 4;    // README, "Exit status": faulted after kmain

    @TempDir
    Path dir;

    private static Path qemuImage() {
        return TestKernelBuild.kernel("badpte64.elf32");
    }

    /** The ELF64 the linker made, with symbols and DWARF lines at their real (64-bit) addresses. */
    private static Path linkedImage() {
        return TestKernelBuild.kernel("badpte64.elf");
    }

    private static void assertOutputStopsAtTheFault(GuestOutput run) {
        assertEquals(OUTPUT_BEFORE_THE_FAULT, run.debugConsole(), run::describe);
        assertEquals(SameAsQemu.onSerial(OUTPUT_BEFORE_THE_FAULT), run.serial(), run::describe);
    }

    @Test
    void underQemu_theWriteThroughTheReadOnlyEntryTripleFaults() {
        QemuRunner.assumeInstalled();
        GuestOutput qemu = QemuRunner.boot(qemuImage(), dir);
        assertOutputStopsAtTheFault(qemu);
        assertEquals(QEMU_RESET_STATUS, qemu.exitStatus(), qemu::describe);
    }

    @Test
    void underKemu_theFaultReportNamesTheEntryTheBitTheFunctionAndTheLine() throws IOException {
        GuestOutput kemu = KemuCommand.boot(linkedImage(), dir, null);
        assertOutputStopsAtTheFault(kemu);
        assertEquals(KEMU_BOOT_FAILED, kemu.exitStatus(), kemu::describe);
        String report = kemu.toolOutput();
        assertTrue(report.contains(FAULTING_ADDRESS), () -> "the faulting address\n" + kemu.describe());
        assertTrue(report.contains("W clear in the PT entry 5"), () -> "level, index and bit\n" + kemu.describe());
        assertTrue(report.contains("kernel_main+0x"), () -> "RIP from the kernel's symbols\n" + kemu.describe());
        String line = "(badpte64.c:" + lineOf("badpte64.c", "FAULTS HERE") + ")";
        assertTrue(report.contains(line), () -> "the source line " + line + " from DWARF\n" + kemu.describe());
        assertFalse(report.contains("memory services not initialised"),
                () -> "a kernel without kemu's memory services gets no VMA section\n" + kemu.describe());
    }

    @Test
    void underKemuAndQemu_sameOutputUpToTheFault() {
        QemuRunner.assumeInstalled();
        SameAsQemu.assertSameOutput(QemuRunner.boot(qemuImage(), dir), KemuCommand.boot(qemuImage(), dir, null));
    }

    /** The 1-based number of the only line of a test kernel source containing {@code marker}. */
    private static int lineOf(String source, String marker) throws IOException {
        List<String> lines = Files.readAllLines(TestKernelBuild.source(source));
        List<Integer> found = IntStream.range(0, lines.size())
                .filter(i -> lines.get(i).contains(marker)).boxed().toList();
        assertEquals(1, found.size(), source + " must contain '" + marker + "' exactly once");
        return found.getFirst() + 1;
    }
}
