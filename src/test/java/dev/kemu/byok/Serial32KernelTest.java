package dev.kemu.byok;

import dev.kemu.testutil.GuestOutput;
import dev.kemu.testutil.QemuRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code serial32.elf}: a 32-bit C kernel, ELF32 with a Multiboot 1 header, that programs COM1 as a
 * 16550 (divisor through DLAB, 8N1), prints on it by polling LSR.THRE and on the debug console, and
 * exits through isa-debug-exit with the code its command line asks for.
 */
class Serial32KernelTest {
    private static final String COMMAND_LINE = "exit=7";
    private static final int EXIT_STATUS = 7 << 1 | 1; // isa-debug-exit: (value << 1) | 1

    @TempDir
    Path dir;

    private static Path kernel() {
        return TestKernelBuild.kernel("serial32.elf");
    }

    /** Behaviour the kernel is written to have; QEMU shows it has it, kemu must too. */
    private static void assertPrintsOnBothConsolesAndExitsWithTheCommandLinesCode(GuestOutput run) {
        assertEquals("""
                serial32: hello on COM1\r
                serial32: COM1 divisor 3, line control 0x3\r
                serial32: exiting with code 7\r
                """, run.serial(), run::describe);
        assertEquals("""
                serial32: hello on the debug console
                serial32: COM1 divisor 3, line control 0x3
                serial32: exiting with code 7
                """, run.debugConsole(), run::describe);
        assertEquals(EXIT_STATUS, run.exitStatus(), run::describe);
    }

    @Test
    void underQemu_printsOnCom1AndTheDebugConsoleAndExitsWithTheCommandLinesCode() {
        QemuRunner.assumeInstalled();
        assertPrintsOnBothConsolesAndExitsWithTheCommandLinesCode(QemuRunner.boot(kernel(), dir, COMMAND_LINE));
    }

    @Test
    void underKemu_printsOnCom1AndTheDebugConsoleAndExitsWithTheCommandLinesCode() {
        assertPrintsOnBothConsolesAndExitsWithTheCommandLinesCode(KemuCommand.boot(kernel(), dir, COMMAND_LINE));
    }

    @Test
    void underKemuAndQemu_sameSerialDebugConsoleAndExitStatus() {
        QemuRunner.assumeInstalled();
        SameAsQemu.assertSameOutputAndStatus(QemuRunner.boot(kernel(), dir, COMMAND_LINE),
                KemuCommand.boot(kernel(), dir, COMMAND_LINE));
    }
}
