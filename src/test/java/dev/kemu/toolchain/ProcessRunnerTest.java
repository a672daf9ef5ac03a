package dev.kemu.toolchain;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProcessRunnerTest {
    @Test
    void toolFinishingInTime_returnsItsStatusAndCombinedOutput() {
        ProcessRunner.Result result = ProcessRunner.run(List.of("sh", "-c", "echo out; echo err >&2; exit 3"), null,
                Duration.ofSeconds(30));
        assertEquals(3, result.exitCode());
        assertTrue(result.output().contains("out") && result.output().contains("err"), result.output());
    }

    @Test
    void toolRunningPastTheTimeout_isKilledAndReportedWithItsCommand() {
        long started = System.nanoTime();
        ToolchainException e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(
                ToolchainException.class, () -> ProcessRunner.run(List.of("sleep", "40"), null, Duration.ofMillis(300))));
        assertTrue(System.nanoTime() - started < Duration.ofSeconds(5).toNanos(), "the timeout did not fire in time");
        assertEquals("sleep 40 did not finish within 0.3 s and was killed", e.getMessage());
    }

    @Test
    void childKeepingTheOutputOpen_doesNotHoldTheTimeoutUp() {
        // sh forks sleep, which inherits the output: killing sh alone would leave a reader blocked for 40 s.
        ToolchainException e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(
                ToolchainException.class,
                () -> ProcessRunner.run(List.of("sh", "-c", "sleep 40; echo done"), null, Duration.ofMillis(300))));
        assertTrue(e.getMessage().startsWith("sh -c sleep 40; echo done did not finish"), e.getMessage());
    }

    @Test
    void missingExecutable_keepsTheIoExceptionAsCause() {
        ToolchainException e = assertThrows(ToolchainException.class,
                () -> ProcessRunner.run(List.of("/nonexistent/kemu-as", "--64"), null, Duration.ofSeconds(5)));
        assertInstanceOf(IOException.class, e.getCause());
        assertTrue(e.getMessage().startsWith("cannot run /nonexistent/kemu-as ("), e.getMessage());
        assertTrue(e.getMessage().contains("install GNU binutils"), e.getMessage());
    }
}
