package dev.kemu.bench;

import dev.kemu.boot.KernelSources;
import dev.kemu.machine.Machine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The benchmark guest code (bench/guest/loops.S) that the C and Python drivers run too. */
final class BenchGuest {
    static final long CODE = 0x10000;
    static final long RAW_LOOP = CODE, HYPERCALL_LOOP = CODE + 0x100, TOUCH_LOOP = CODE + 0x200;
    static final int RAW_LOOP_INSTRUCTIONS = 10;

    private BenchGuest() {}

    /** A bare machine (no kernel) with the loops loaded at {@link #CODE}. */
    static Machine machineWithLoops() {
        Path binary = Path.of(System.getProperty("kemu.bench.loops",
                KernelSources.home().resolve("target/bench/loops.bin").toString()));
        try {
            Machine machine = new Machine(16L << 20);
            machine.ram().write(CODE, Files.readAllBytes(binary));
            return machine;
        } catch (IOException e) {
            throw new UncheckedIOException("run bench/run.sh (make bench), which assembles " + binary, e);
        }
    }
}
