package dev.kemu.byok;

import dev.kemu.testutil.GuestOutput;
import dev.kemu.testutil.QemuRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code pit32.elf}: a protected-mode kernel that remaps the PIC, runs the PIT at 100 Hz and sleeps in
 * {@code sti; hlt} until ten IRQ0s have reached its 32-bit interrupt gate (IF clear in the handler, EOI,
 * iret). The same lines and exit status under kemu and under QEMU.
 */
class ProtectedModeTimerKernelTest {
    private static final String EXPECTED = """
            pit32: PIC at 0x20, PIT at 100 Hz, waiting for 10 ticks
            pit32: 10 ticks; IF in the handler: 0
            """;

    @TempDir
    Path dir;

    private static Path kernel() {
        return TestKernelBuild.kernel("pit32.elf");
    }

    private static void assertTenTicks(GuestOutput run) {
        assertEquals(EXPECTED, run.debugConsole(), run::describe);
        assertEquals(SameAsQemu.onSerial(EXPECTED), run.serial(), run::describe);
        assertEquals(10 << 1 | 1, run.exitStatus(), run::describe);
    }

    @Test
    void underKemu_tenTimerInterruptsReachThe32BitGate() {
        assertTenTicks(KemuCommand.boot(kernel(), dir, null));
    }

    @Test
    void underQemu_tenTimerInterruptsReachThe32BitGate() {
        QemuRunner.assumeInstalled();
        assertTenTicks(QemuRunner.boot(kernel(), dir));
    }

    @Test
    void underKemuAndQemu_sameSerialDebugConsoleAndExitStatus() {
        QemuRunner.assumeInstalled();
        SameAsQemu.assertSameOutputAndStatus(QemuRunner.boot(kernel(), dir), KemuCommand.boot(kernel(), dir, null));
    }
}
