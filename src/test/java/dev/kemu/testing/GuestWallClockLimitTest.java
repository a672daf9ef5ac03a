package dev.kemu.testing;

import dev.kemu.machine.StopReason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The watchdog of guest runs (issue 11, defect 6): host code that never returns from inside a
 * run ends the run after its wall-clock limit with a message naming the snippet, instead of
 * hanging the test run; a guest that runs uncounted stops at the limit.
 */
class GuestWallClockLimitTest {
    private static final int STUCK_PORT = 0x80;

    @Test
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // without the watchdog the run below never returns
    void hostCodeThatNeverReturns_endsTheRunAtTheLimit_namingTheSnippet_andAbandonsTheMachine() {
        TestMachine machine = new TestMachine();
        AtomicBoolean release = new AtomicBoolean();
        // Stands in for a hypercall service looping over corrupted guest metadata: Java the budget cannot stop.
        machine.machine().attach(STUCK_PORT, (m, port, size, value) -> {
            while (!release.get()) {
                Thread.onSpinWait();
            }
        });
        try {
            long started = System.nanoTime();
            GuestTimeoutException timeout = assertThrows(GuestTimeoutException.class, () -> machine.run("""
                        mov eax, 42
                        out 0x80, al      # never returns
                    """, Map.of(), 1000, Duration.ofMillis(500)));
            long millis = (System.nanoTime() - started) / 1_000_000;
            assertTrue(millis >= 500 && millis < 10_000, "ended after " + millis + " ms");
            assertTrue(timeout.getMessage().contains("out 0x80, al"), timeout.getMessage());
            assertTrue(timeout.getMessage().contains("wall-clock limit of PT0.5S"), timeout.getMessage());
            assertTrue(timeout.getMessage().contains("GuestWallClockLimitTest"), "names where host code was: "
                    + timeout.getMessage());
            assertTrue(machine.abandoned());
            IllegalStateException reuse = assertThrows(IllegalStateException.class, machine::reset);
            assertTrue(reuse.getMessage().contains("abandoned"), reuse.getMessage());
        } finally {
            release.set(true); // let the stuck thread finish; the abandoned machine is never closed
        }
    }

    @Test
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void uncountedGuestLoop_stopsAtTheLimit_andTheMachineStaysUsable() {
        try (TestMachine machine = new TestMachine()) {
            GuestRun loop = machine.run("1:  jmp 1b", Map.of(), 0, Duration.ofMillis(300));
            assertEquals(StopReason.TIMEOUT, loop.stopReason(), loop.describe());
            assertTrue(!machine.abandoned());
            GuestRun next = machine.run("    mov eax, 7", Map.of(), 100);
            assertEquals(7, next.rax(), next.describe());
        }
    }

    @Test
    void durations_parseAsTheirUnits_andBadValuesNameTheProperty() {
        assertEquals(Duration.ofMillis(500), RunWatchdog.parse("500ms"));
        assertEquals(Duration.ofSeconds(30), RunWatchdog.parse("30s"));
        assertEquals(Duration.ofMinutes(2), RunWatchdog.parse("2m"));
        assertEquals(Duration.ZERO, RunWatchdog.parse("0"));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> RunWatchdog.parse("soon"));
        assertTrue(bad.getMessage().contains("kemu.guest.timeout=soon"), bad.getMessage());
    }
}
