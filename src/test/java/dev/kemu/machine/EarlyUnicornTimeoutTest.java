package dev.kemu.machine;

import dev.kemu.unicorn.Unicorn;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Unicorn's timer thread can end a run long before its timeout: every engine's initialisation runs
 * init_get_clock, which sets the process-wide use_rt_clock to 0 and back to 1, and a timer thread that
 * reads the clock in between compares gettimeofday with its CLOCK_MONOTONIC start and times out at once.
 * kemu's boot opened the lazy calibration engines inside the handoff hook, so under load a boot stopped
 * there as HOST_REQUEST "emulation stopped". kemu's wall-clock limit is now its own ({@link HostAlarm}):
 * this test holds that window open from a code hook (it sets the flag, found through the library's symbol
 * table, to 0 for longer than Unicorn's timer would take to fire) and checks that the run goes on to its hlt.
 *
 * <p>Isolated: the flag is process-wide, so while it is held at 0 every other engine's timer in this JVM would
 * fire early too, and every engine another test opens would set it back to 1.
 */
@Isolated
class EarlyUnicornTimeoutTest {
    // inc rax x4 ; hlt
    private static final byte[] CODE = {0x48, (byte) 0xFF, (byte) 0xC0, 0x48, (byte) 0xFF, (byte) 0xC0, 0x48, (byte) 0xFF,
            (byte) 0xC0, 0x48, (byte) 0xFF, (byte) 0xC0, (byte) 0xF4};

    @Test
    void runWithAWallClockLimit_whileUnicornsClockChoiceIsReset_goesOnToTheGuestsOwnStop() throws Exception {
        try (Machine machine = new Machine(1 << 20)) {
            machine.ram().write(0x1000, CODE);
            MemorySegment useRtClock = useRtClockFlag(); // after an engine's initialisation has set it
            int[] held = {0};
            try (Machine.Subscription ignored = machine.onInstructionAt(0x1006, () -> {
                if (held[0]++ == 0) {
                    holdClockWindowOpen(useRtClock);
                }
            })) {
                RunResult result = machine.run(0x1000, new RunLimits(1000, Duration.ofSeconds(60)));
                assertEquals(1, held[0], "the window was held once, in the only pass over 0x1006");
                assertEquals(StopReason.HALTED, result.reason(), result.detail());
                assertEquals(4, result.cpu().rax(), "every inc ran exactly once");
                assertEquals(5, result.instructions());
                assertEquals(0x100d, result.cpu().rip());
            }
        }
    }

    /** Leaves use_rt_clock at 0 for 300 ms (Unicorn's timer polled every few microseconds within it); restores it. */
    private static void holdClockWindowOpen(MemorySegment useRtClock) {
        try {
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
            while (System.nanoTime() < until) {
                useRtClock.set(ValueLayout.JAVA_INT, 0, 0); // again each time: an engine opened meanwhile resets it
                sleep(1);
            }
        } finally {
            useRtClock.set(ValueLayout.JAVA_INT, 0, 1);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The address of libunicorn's local {@code use_rt_clock} in this process: its symbol-table value
     * relative to the exported {@code uc_version}. Skips when nm or the symbol (a stripped library) is missing.
     */
    private static MemorySegment useRtClockFlag() throws IOException, InterruptedException {
        Path library = loadedLibrary();
        OptionalLong flag = symbol(library, "use_rt_clock");
        OptionalLong version = symbol(library, "uc_version");
        assumeTrue(flag.isPresent() && version.isPresent(),
                "skipped: nm found no use_rt_clock/uc_version in " + library + " (stripped, or no nm on PATH)");
        long base = Unicorn.nativeFunction("uc_version").address() - version.getAsLong();
        MemorySegment segment = MemorySegment.ofAddress(base + flag.getAsLong()).reinterpret(4);
        assertEquals(1, segment.get(ValueLayout.JAVA_INT, 0), "use_rt_clock should be 1 (CLOCK_MONOTONIC works)");
        return segment;
    }

    private static Path loadedLibrary() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            int slash = line.indexOf('/');
            if (slash >= 0 && line.contains("libunicorn")) {
                return Path.of(line.substring(slash));
            }
        }
        assumeTrue(false, "skipped: libunicorn not found in /proc/self/maps");
        return null;
    }

    private static OptionalLong symbol(Path library, String name) throws IOException, InterruptedException {
        Process nm;
        try {
            nm = new ProcessBuilder("nm", library.toString()).redirectErrorStream(true).start();
        } catch (IOException noNm) {
            return OptionalLong.empty();
        }
        String output = new String(nm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        nm.waitFor();
        for (String line : output.split("\n")) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length == 3 && fields[2].equals(name)) {
                return OptionalLong.of(Long.parseUnsignedLong(fields[0], 16));
            }
        }
        return OptionalLong.empty();
    }
}
