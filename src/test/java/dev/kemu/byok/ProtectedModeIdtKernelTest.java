package dev.kemu.byok;

import dev.kemu.testutil.GuestOutput;
import dev.kemu.testutil.QemuRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code pmidt32.elf}: a protected-mode kernel with a 32-bit IDT of its own (interrupt gates, a trap
 * gate for int3). A divide by zero (#DE, EIP at the div), int3 (#BP, EIP after it) and a load of a
 * selector past the GDT (#GP, error code = the selector 0x0ff0) reach its handlers, which resume.
 */
class ProtectedModeIdtKernelTest {
    private static final int HANDLED = 3;

    @TempDir
    Path dir;

    private static Path kernel() {
        return TestKernelBuild.kernel("pmidt32.elf");
    }

    private static void assertEachExceptionReachedItsHandlerWhichResumed(GuestOutput run) {
        NmSymbols symbols = NmSymbols.of(kernel());
        String expected = """
                pmidt32: IDT loaded, 32 gates
                pmidt32: #DE at eip %s, cs 0x8, error code 0x0
                pmidt32: eip is the div
                pmidt32: resumed after #DE
                pmidt32: #BP at eip %s, cs 0x8, error code 0x0
                pmidt32: eip is after the int3
                pmidt32: resumed after #BP
                pmidt32: #GP at eip %s, cs 0x8, error code 0xff0
                pmidt32: eip is the segment load
                pmidt32: resumed after #GP
                pmidt32: handled 3 exceptions, exiting with that code
                """.formatted(symbols.hex("divide_site"), symbols.hex("breakpoint_resume"),
                symbols.hex("bad_selector_site"));
        assertEquals(expected, run.debugConsole(), run::describe);
        assertEquals(SameAsQemu.onSerial(expected), run.serial(), run::describe);
        assertEquals(HANDLED << 1 | 1, run.exitStatus(), run::describe);
    }

    @Test
    void underQemu_eachExceptionReachesItsHandlerWhichResumes() {
        QemuRunner.assumeInstalled();
        assertEachExceptionReachedItsHandlerWhichResumed(QemuRunner.boot(kernel(), dir));
    }

    @Test
    void underKemu_eachExceptionReachesItsHandlerWhichResumes() {
        assertEachExceptionReachedItsHandlerWhichResumed(KemuCommand.boot(kernel(), dir, null));
    }

    @Test
    void underKemuAndQemu_sameSerialDebugConsoleAndExitStatus() {
        QemuRunner.assumeInstalled();
        SameAsQemu.assertSameOutputAndStatus(QemuRunner.boot(kernel(), dir), KemuCommand.boot(kernel(), dir, null));
    }
}
