package dev.kemu.gdb;

import dev.kemu.testutil.TestKernels;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;

/**
 * A figure of `make bench`: the cost of one reverse-stepi after about 1 M instructions (a restore of
 * the last checkpoint and up to 100,000 instructions executed again), through the protocol.
 * Appends {@code gdb_reverse_stepi_ms MIN MEDIAN} to the file given.
 */
public final class ReverseStepCost {
    private static final int REPETITIONS = 15;

    private ReverseStepCost() {}

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("kemu-reverse-cost");
        // About 8,300 instructions of boot, then 363,566 iterations of 3: the stop is near instruction 1,099,000,
        // 99,000 past the last checkpoint (one every 100,000), so each reverse step executes about that many again.
        var images = TestKernels.withKmain(dir, """
                    mov rcx, 363566
                spin:
                    add rax, rcx
                    dec rcx
                    jnz spin
                after_loop:
                    hlt
                """);
        double[] ms = new double[REPETITIONS];
        long time;
        try (StubUnderTest stub = new StubUnderTest(images);
             RspTestClient gdb = new RspTestClient(stub.port())) {
            long end = stub.boot().symbols().address("after_loop");
            gdb.continueTo(end);
            gdb.sendRaw(new String(RspPackets.frame("qRcmd," + RspPackets.hex("time")), java.nio.charset.StandardCharsets.ISO_8859_1));
            gdb.readByte();
            time = Long.parseLong(new String(RspPackets.unhex(gdb.readPacket().substring(1)), java.nio.charset.StandardCharsets.UTF_8)
                    .replaceAll("[^0-9]", ""));
            gdb.readPacket(); // OK
            for (int i = 0; i < REPETITIONS; i++) {
                long started = System.nanoTime();
                String reply = gdb.request("bs");
                ms[i] = (System.nanoTime() - started) / 1e6;
                if (!reply.startsWith("T05")) {
                    throw new IllegalStateException("reverse step answered " + reply);
                }
            }
            gdb.sendRaw(new String(RspPackets.frame("k"), java.nio.charset.StandardCharsets.ISO_8859_1));
        }
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        // The first steps warm the JIT: the figure is over the last two thirds.
        double[] warm = Arrays.copyOfRange(ms, REPETITIONS / 3, REPETITIONS);
        Arrays.sort(warm);
        String line = String.format(Locale.ROOT, "gdb_reverse_stepi_ms %.3f %.3f%n", warm[0], warm[warm.length / 2]);
        System.err.println("stopped at " + time + " (the last checkpoint at " + (time / 100_000) * 100_000 + ")");
        Files.writeString(Path.of(args[0]), line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        System.err.print(line);
    }
}
