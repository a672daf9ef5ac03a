package dev.kemu.byok;

import dev.kemu.testutil.GuestOutput;
import dev.kemu.testutil.QemuRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --clock host}: device time is the host's, as under QEMU without -icount. A kernel sleeping in
 * {@code sti; hlt} for ten 100 Hz ticks waits the tenth of a second they take, and a compute-bound kernel is
 * interrupted about once per host millisecond at 1 kHz, with the same output as QEMU.
 */
class HostClockKernelTest {
    private static final Pattern TICKS = Pattern.compile("sieve32: timer ticks (\\d+)");

    @TempDir
    Path dir;

    /** Uncounted ({@code --budget 0}: the alarm ends each quantum) and counted (the boot's default budget). */
    @ParameterizedTest
    @ValueSource(strings = {"0", "10000000"})
    void tenTicksAt100Hz_takeATenthOfASecondOfHostTime_andPrintWhatQemuPrints(String budget) {
        Path kernel = TestKernelBuild.kernel("pit32.elf");
        long started = System.nanoTime();
        GuestOutput kemu = KemuCommand.boot(kernel, dir, null, "--clock", "host", "--budget", budget);
        long elapsedMs = (System.nanoTime() - started) / 1_000_000;
        assertEquals("""
                pit32: PIC at 0x20, PIT at 100 Hz, waiting for 10 ticks
                pit32: 10 ticks; IF in the handler: 0
                """, kemu.debugConsole(), kemu::describe);
        assertEquals(10 << 1 | 1, kemu.exitStatus(), kemu::describe);
        assertTrue(elapsedMs >= 90, "ten PIT periods of 10 ms passed in " + elapsedMs + " ms of host time");
        assertTrue(kemu.toolOutput().contains("note: --clock host: timers follow the host's clock"), kemu::describe);
        if (QemuRunner.isInstalled()) {
            SameAsQemu.assertSameOutputAndStatus(QemuRunner.boot(kernel, dir), kemu);
        }
    }

    @Test
    void computeBoundKernelWithA1kHzTimer_getsNoMoreTicksThanHostMilliseconds() {
        Path kernel = TestKernelBuild.kernel("sieve32.elf");
        long started = System.nanoTime();
        GuestOutput kemu = KemuCommand.boot(kernel, dir, "small timer", "--clock", "host", "--ram", "96", "--budget", "0");
        long elapsedMs = (System.nanoTime() - started) / 1_000_000;
        assertEquals("sieve32: 1077871 primes below 16 Mi\n", kemu.debugConsole(), kemu::describe);
        assertEquals(1, kemu.exitStatus(), kemu::describe);
        Matcher ticks = TICKS.matcher(kemu.serial());
        assertTrue(ticks.find(), kemu::describe);
        long count = Long.parseLong(ticks.group(1));
        // The sieve's millions of instructions take host milliseconds; the PIT cannot tick faster than the host clock.
        assertTrue(count >= 1 && count <= elapsedMs + 1, count + " ticks in " + elapsedMs + " ms: " + kemu.describe());
    }
}
