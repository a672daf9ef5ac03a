package dev.kemu.gdb;

import dev.kemu.testutil.TestKernels;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Measures the stub's run control through the protocol on one guest: how fast {@code continue} runs to a
 * far breakpoint (instructions per second), the latency of a breakpoint hit that comes a few instructions
 * after the continue, and {@code stepi} round trips per second. Prints one line per figure; not a test.
 */
public final class GdbRunSpeed {
    /** The far loop: 3 instructions an iteration. */
    private static final long ITERATIONS = 30_000_000;
    private static final int HITS = 2_000;
    private static final int STEPS = 5_000;

    private GdbRunSpeed() {}

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("kemu-gdb-speed");
        var images = TestKernels.withKmain(dir, """
                    mov rcx, %d
                spin:
                    add rax, rcx
                    dec rcx
                    jnz spin
                far:
                    mov rcx, 1000000000
                near_loop:
                    inc rax
                near_hit:
                    dec rcx
                    jnz near_loop
                    hlt
                """.formatted(ITERATIONS));
        try (StubUnderTest stub = new StubUnderTest(images);
             RspTestClient gdb = new RspTestClient(stub.port())) {
            var symbols = stub.boot().symbols();
            long started = System.nanoTime();
            String stop = gdb.continueTo(symbols.address("far"));
            double seconds = (System.nanoTime() - started) / 1e9;
            check(stop);
            System.out.printf(Locale.ROOT, "continue to a far breakpoint: %.1f M instructions/s (%.3f s for %,d)%n",
                    ITERATIONS * 3 / seconds / 1e6, seconds, ITERATIONS * 3);
            gdb.request("z0," + Long.toHexString(symbols.address("far")) + ",1");
            check(gdb.continueTo(symbols.address("near_hit")));
            for (int i = 0; i < HITS / 4; i++) {
                check(gdb.request("c")); // warm-up
            }
            started = System.nanoTime();
            for (int i = 0; i < HITS; i++) {
                check(gdb.request("c"));
            }
            System.out.printf(Locale.ROOT, "breakpoint hit (continue, 3 instructions, stop): %.1f us%n",
                    (System.nanoTime() - started) / 1e3 / HITS);
            gdb.request("z0," + Long.toHexString(symbols.address("near_hit")) + ",1");
            for (int i = 0; i < STEPS / 5; i++) {
                check(gdb.request("s"));
            }
            started = System.nanoTime();
            for (int i = 0; i < STEPS; i++) {
                check(gdb.request("s"));
            }
            System.out.printf(Locale.ROOT, "stepi: %.0f round trips/s%n", STEPS / ((System.nanoTime() - started) / 1e9));
            gdb.sendRaw(new String(RspPackets.frame("k"), java.nio.charset.StandardCharsets.ISO_8859_1));
        }
    }

    private static void check(String stop) {
        if (!stop.startsWith("T05")) {
            throw new IllegalStateException("the stub answered " + stop);
        }
    }
}
