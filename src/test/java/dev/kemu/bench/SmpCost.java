package dev.kemu.bench;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;
import dev.kemu.machine.Machine;
import dev.kemu.machine.smp.CpuSet;
import dev.kemu.machine.smp.CpuState;
import dev.kemu.machine.smp.SmpRunResult;

import java.util.Arrays;
import java.util.Locale;

/**
 * What several CPUs cost (docs/smp.md). A whole boot of kemu's kernel (its APs brought up through the local
 * APIC, the BSP's ten timer ticks) with --cpus 2 against --cpus 1: "smp_boot1_ms" and "smp_boot2_ms" (wall
 * time of KernelBoot.run, min and median), "smp_boot1_insns" and "smp_boot2_insns" (instructions over all
 * CPUs; deterministic, so min = median). And one turn switch: two CPUs each counting down a 2-instruction
 * loop, once in 100-instruction turns and once in turns longer than the loop; "smp_turn_switch_us" is the
 * difference in wall time over the difference in turns.
 */
public final class SmpCost {
    private static final int LOOP = 1_000_000;
    private static final long SMALL_QUANTUM = 100, LARGE_QUANTUM = 10 * LOOP;

    public static void main(String[] args) {
        int repetitions = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        KernelSources.BuiltImages images = KernelSources.defaults().build();
        // Interleaved, after a warm-up of both, so that JIT warm-up and host noise fall on both counts alike.
        double[][] ms = new double[3][repetitions];
        long[] instructions = new long[3];
        for (int run = -2; run < repetitions; run++) {
            for (int cpus = 1; cpus <= 2; cpus++) {
                long started = System.nanoTime();
                BootReport report;
                try (KernelBoot boot = new KernelBoot(images, BootOptions.defaults().withCpus(cpus))) {
                    report = boot.run();
                }
                if (report.run().exitCode() != 0 || report.failure().isPresent()) {
                    throw new IllegalStateException("--cpus " + cpus + ": the kernel's demo did not pass: " + report.run());
                }
                if (run >= 0) {
                    ms[cpus][run] = (System.nanoTime() - started) / 1e6;
                    instructions[cpus] = report.run().instructions();
                }
            }
        }
        for (int cpus = 1; cpus <= 2; cpus++) {
            print("smp_boot" + cpus + "_ms", ms[cpus], "ms");
            System.out.printf(Locale.ROOT, "smp_boot%d_insns %d %d instructions%n", cpus, instructions[cpus], instructions[cpus]);
        }
        double[] switchUs = new double[repetitions];
        for (int run = -1; run < repetitions; run++) {
            Turns small = countDown(SMALL_QUANTUM), large = countDown(LARGE_QUANTUM);
            if (run >= 0) {
                switchUs[run] = (small.nanos - large.nanos) / 1e3 / (small.turns - large.turns);
            }
        }
        print("smp_turn_switch_us", switchUs, "us");
    }

    private record Turns(long nanos, long turns) {}

    /**
     * cpu0 in 64-bit mode and cpu1 in real mode after a STARTUP to page 8 each run {@code mov ecx, LOOP; 1: dec ecx;
     * jnz 1b; hlt} (hand-encoded for each mode), in turns of {@code quantum} instructions.
     */
    private static Turns countDown(long quantum) {
        try (Machine bsp = new Machine(16 << 20); CpuSet cpus = new CpuSet(bsp, 2, quantum)) {
            byte[] imm = {(byte) LOOP, (byte) (LOOP >>> 8), (byte) (LOOP >>> 16), (byte) (LOOP >>> 24)};
            bsp.ram().write(0x10000, new byte[]{(byte) 0xb9, imm[0], imm[1], imm[2], imm[3],
                    (byte) 0xff, (byte) 0xc9, 0x75, (byte) 0xfc, (byte) 0xf4});
            bsp.ram().write(0x8000, new byte[]{0x66, (byte) 0xb9, imm[0], imm[1], imm[2], imm[3],
                    0x66, 0x49, 0x75, (byte) 0xfc, (byte) 0xf4});
            cpus.startup(0, 1, 0x08);
            cpus.deliverPendingIpis();
            long started = System.nanoTime();
            SmpRunResult result = cpus.run(0x10000, 0);
            long nanos = System.nanoTime() - started;
            long expected = 2 * (2L * LOOP + 2);
            if (cpus.state(0) != CpuState.HALTED || cpus.state(1) != CpuState.HALTED
                    || result.totalInstructions() < expected) {
                throw new IllegalStateException("the count-down did not run to its hlt on both CPUs: " + result);
            }
            return new Turns(nanos, (result.totalInstructions() + quantum - 1) / quantum);
        }
    }

    private static void print(String name, double[] samples, String unit) {
        double[] sorted = samples.clone();
        Arrays.sort(sorted);
        System.out.printf(Locale.ROOT, "%s %.3f %.3f %s%n", name, sorted[0], sorted[sorted.length / 2], unit);
    }
}
