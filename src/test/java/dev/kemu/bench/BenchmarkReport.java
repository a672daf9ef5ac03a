package dev.kemu.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns the raw results of bench/run.sh (C driver, Python binding, JMH JSON, launcher run,
 * footprint, hyperfine JSON) into BENCHMARKS.md: min and median per figure, the ratio to the
 * reference measured in the same run, the goal and whether it is met, and why not where not.
 */
public final class BenchmarkReport {
    /** min and median of one figure, in its unit, and the samples they come from (if known). */
    record Figure(double min, double median, double[] samples) {
        Figure(double min, double median) {
            this(min, median, new double[]{min, median});
        }

        static Figure of(double[] samples) {
            double[] sorted = samples.clone();
            Arrays.sort(sorted);
            return new Figure(sorted[0], sorted[sorted.length / 2], sorted);
        }

        /** The figure in another unit: every sample converted, then min and median taken again. */
        Figure map(java.util.function.DoubleUnaryOperator f) {
            return of(Arrays.stream(samples).map(f).toArray());
        }
    }

    private final Path dir;
    private final Map<String, Figure> plain = new HashMap<>();
    private final Map<String, Figure> jmh = new HashMap<>();
    /** Interleaved samples, one per round, by "file.column" (InterleavedRounds, AlternatingProcesses). */
    private final Map<String, double[]> rounds = new HashMap<>();
    private final List<String> rows = new ArrayList<>();
    private final List<String> misses = new ArrayList<>();

    private BenchmarkReport(Path dir) {
        this.dir = dir;
    }

    public static void main(String[] args) throws IOException {
        BenchmarkReport report = new BenchmarkReport(Path.of(args[0]));
        report.load();
        Files.writeString(Path.of(args[1]), report.render());
    }

    private void load() throws IOException {
        try (var files = Files.list(dir)) {
            for (Path path : files.filter(f -> f.toString().endsWith(".rounds")).toList()) {
                loadRounds(path);
            }
        }
        for (String file : List.of("instructions.txt", "python.txt", "tests.txt", "footprint.txt", "gdb.txt", "assembly.txt", "smp.txt")) {
            Path path = dir.resolve(file);
            if (!Files.exists(path)) {
                continue;
            }
            for (String line : Files.readAllLines(path)) {
                String[] p = line.trim().split("\\s+");
                if (p.length >= 3 && p[1].matches("-?[0-9.]+") && p[2].matches("-?[0-9.]+")) {
                    plain.put(p[0], new Figure(Double.parseDouble(p[1]), Double.parseDouble(p[2])));
                    if (p[0].startsWith("footprint_")) {
                        plain.put(p[0] + "_touched", new Figure(Double.parseDouble(p[3]), Double.parseDouble(p[3])));
                    }
                }
            }
        }
        JsonNode results = new ObjectMapper().readTree(dir.resolve("jmh.json").toFile());
        for (JsonNode result : results) {
            String benchmark = result.get("benchmark").asText();
            String name = benchmark.replaceAll(".*\\.", "");
            JsonNode params = result.get("params");
            if (params != null && params.has("pages")) {
                name += "_" + params.get("pages").asText();
            }
            if (benchmark.contains("KasanBenchmark.")) { // the same method name as KernelBenchmark's pair
                name = "kasan_" + (params != null && params.has("kasan") ? params.get("kasan").asText() : "?");
            }
            List<Double> samples = new ArrayList<>();
            for (JsonNode fork : result.get("primaryMetric").get("rawData")) {
                fork.forEach(v -> samples.add(v.asDouble()));
            }
            jmh.put(name, Figure.of(samples.stream().mapToDouble(Double::doubleValue).toArray()));
        }
    }

    private void loadRounds(Path path) throws IOException {
        List<String> lines = Files.readAllLines(path).stream().filter(l -> !l.isBlank()).toList();
        String stem = path.getFileName().toString().replace(".rounds", "");
        String[] names = lines.getFirst().trim().split("\\s+");
        for (int column = 0; column < names.length; column++) {
            double[] samples = new double[lines.size() - 1];
            for (int row = 1; row < lines.size(); row++) {
                samples[row - 1] = Double.parseDouble(lines.get(row).trim().split("\\s+")[column]);
            }
            rounds.put(stem + "." + names[column], samples);
        }
    }

    /** The samples of one interleaved column, or null when that part of the run was skipped. */
    private double[] column(String name) {
        return rounds.get(name);
    }

    /** Per round: a[i] - b[i] (a run's guest part: the whole run minus the immediately exiting one). */
    private static double[] minus(double[] a, double[] b) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i] - b[i];
        }
        return d;
    }

    /** The ratios of the pairs of one round each: median, min and max. */
    record Ratio(double median, double min, double max) {
        static Ratio of(double[] kemu, double[] reference) {
            double[] ratios = new double[kemu.length];
            for (int i = 0; i < kemu.length; i++) {
                ratios[i] = kemu[i] / reference[i];
            }
            Figure f = Figure.of(ratios);
            return new Ratio(f.median, f.min, f.samples[f.samples.length - 1]);
        }

        String text() {
            return String.format(Locale.ROOT, "%.2f (%.2f - %.2f)", median, min, max);
        }
    }

    /** A row of an interleaved pair: each side's min / median and the median ratio of the pairs with its range. */
    private Ratio pairRow(String name, double[] kemu, String unit, double[] reference, String referenceName,
                          String goal, java.util.function.Predicate<Ratio> met, String note) {
        if (kemu == null || reference == null) {
            rows.add(String.format(Locale.ROOT, "| %s | not measured | %s | | %s | skipped |", name, referenceName, goal));
            return new Ratio(Double.NaN, Double.NaN, Double.NaN);
        }
        Figure k = Figure.of(kemu), r = Figure.of(reference);
        Ratio ratio = Ratio.of(kemu, reference);
        rows.add(String.format(Locale.ROOT, "| %s | %s / %s %s | %s / %s %s (%s) | %s | %s | %s |", name, fmt(k.min),
                fmt(k.median), unit, fmt(r.min), fmt(r.median), unit, referenceName, ratio.text(), goal,
                (met.test(ratio) ? "met" : "**missed**") + (note.isEmpty() ? "" : "; " + note)));
        return ratio;
    }

    /** The tests-per-second rows of one harness setting ({@code suffix} names it in the row). */
    private void testsPerSecondRows(String figure, String suffix) {
        Figure tests = plain.get(figure);
        if (tests != null) {
            row("guest regression tests per second (JUnit 5 extension, trivial snippet + 1 assertion" + suffix + ")", tests, "tests/s",
                    null, "none", Double.NaN, ">= 10,000 tests/s at the minimum", tests.min >= 10000,
                    "whole launcher run of 5,000 tests, including discovery and the first boot");
            if (tests.min < 10000) {
                boolean watched = suffix.isEmpty();
                misses.add(String.format(Locale.ROOT, "**Tests per second%s**: %.0f at the minimum, %.0f median (goal "
                        + "10,000 at the minimum). A reset is under 1 us and a trivial run about 3 us. %s", watched ? ""
                                : " without the watchdog", tests.min, tests.median, watched
                        ? "Every run goes to the harness's runner thread and back (which lets a test time out while Java "
                          + "code in a hypercall is stuck): two thread wake-ups (a futex wake-up "
                          + "alone was measured at 27 us in this VM, see HostAlarm), and the rest is JUnit's per-test "
                          + "bookkeeping; the minimum is the slowest of the measured launcher runs. `-Dkemu.guest.timeout=0` runs on the test's own thread "
                          + "instead (the row below), giving up that last resort."
                        : "What is left is JUnit's per-test bookkeeping (about 30 us between two tests) and the "
                          + "extension's callbacks; the minimum is the slowest of the measured launcher runs, so a "
                          + "busy host moves it."));
            }
            Figure two = plain.get(figure.replace("tests_per_second", "tests_per_second_2_threads"));
            if (two != null) {
                double scaling = two.median / tests.median;
                row("guest regression tests per second on two threads (the same cases, `@Execution(CONCURRENT)`" + suffix + ")", two,
                        "tests/s", tests, "one thread", scaling, ">= 1.8x one thread", scaling >= 1.8,
                        "each thread has a machine of its own");
                if (scaling < 1.8) {
                    misses.add(String.format(Locale.ROOT, "**Tests on two threads%s** run %.2fx as many tests per "
                            + "second as one (goal 1.8x). Both threads share the machine's %s cores with the JUnit "
                            + "launcher and the JIT compiler%s.", suffix.isEmpty() ? "" : " without the watchdog",
                            scaling, Runtime.getRuntime().availableProcessors(), suffix.isEmpty()
                                    ? ", and with the watchdog each has a runner thread too: four busy threads" : ""));
                }
            }
        }
    }

    private String render() throws IOException {
        String pairs = "interleaved.";
        Ratio raw = pairRow("raw emulation, guest loop, no hooks", column(pairs + "raw_kemu_mips"), "MIPS",
                column(pairs + "raw_c_mips"), "C driver, its process's second engine", "Java/C >= 0.97",
                r -> r.median >= 0.97, "an engine's place in memory moves this loop (bench/c/kemu_bench.c, bench_raw): "
                        + "the C driver measures a second engine, as kemu's is never its JVM's first");
        if (raw.median < 0.97) {
            var kemuMips = Arrays.stream(column(pairs + "raw_kemu_mips")).summaryStatistics();
            misses.add(String.format(Locale.ROOT, "**Raw emulation** is %.2fx C (goal 0.97), steady across the "
                    + "rounds (%.2f - %.2f), so not noise. Both sides run the same translated code in the same "
                    + "libunicorn, on an engine that is not their process's first. Where an engine lands in memory "
                    + "decides this loop's speed: the same C driver started 24 times one after another on an idle "
                    + "machine (2026-12-03) ran it at about 4,500 MIPS (median) in 18 processes and 2,410-2,690 in "
                    + "6, with nothing changed but the address-space layout, on the main thread or another; kemu's "
                    + "engines ran at %.0f-%.0f MIPS in this run's rounds. What would close it: find which "
                    + "allocation (the code buffer, the CPU state, its TLB arrays) sets the speed, and place it as "
                    + "in the fast processes.", raw.median, raw.min, raw.max, kemuMips.getMin(), kemuMips.getMax()));
        }

        Figure python = plain.get("python_hypercall_ns");
        Figure hypercall = Figure.of(column(pairs + "hypercall_kemu_ns"));
        Ratio vsC = pairRow("hypercall round trip: out -> Java reads 2 args, writes RAX -> guest",
                column(pairs + "hypercall_kemu_ns"), "ns", column(pairs + "hypercall_c_ns"), "C hook doing the same",
                "<= 1.5x C; >= 50x faster than Python",
                r -> r.median <= 1.5 && (python == null || python.median / hypercall.median >= 50),
                python == null ? "Python binding: not installable here, skipped"
                        : String.format(Locale.ROOT, "Python binding: %.0f / %.0f ns, kemu is %.0fx faster", python.min,
                        python.median, python.median / hypercall.median));
        Figure emptyHook = jmh.get("emptyOutHook");
        if (vsC.median > 1.5 && emptyHook != null) {
            misses.add(String.format(Locale.ROOT, "**Hypercall round trip** is %.2fx C (goal 1.5x). An `out` hook that "
                    + "does nothing already costs %.0f ns in Java (the FFM upcall: thread-state transitions and the "
                    + "stub), against about 35 ns for a C hook. The registers already move in C (native/kemu_hooks.c) "
                    + "around one upcall; what would close it is fewer upcalls (services answered in C).", vsC.median,
                    emptyHook.median));
        }

        Figure tick = jmh.get("timerInterruptRoundTrip");
        if (tick != null) {
            row("timer interrupt round trip: hlt sleeps to the PIT deadline, delivery through the IDT, handler with EOI, "
                    + "iretq (booted kernel; docs/interrupts.md)", tick, "ns", null, "none (absolute)", Double.NaN,
                    "measured", true, "");
        }
        Ratio timer = pairRow("compute loop per instruction with a 1 kHz virtual timer interrupting it (booted kernel)",
                column(pairs + "timer_on_ns"), "ns", column(pairs + "timer_off_ns"),
                "the same loop, no interrupt hardware programmed", "on/off <= 1.05", r -> r.median <= 1.05,
                "the difference is counting virtual time (native hooks per translated block, docs/interrupts.md)");
        if (timer.median > 1.05) {
            misses.add(String.format(Locale.ROOT, "**Timer on/off** is %.2fx (goal 1.05x). While a device deadline is "
                    + "pending kemu counts virtual time so that it can stop the engine exactly at the deadline: a native "
                    + "hook per translated block adds the block's instruction count. A dec/jnz loop is the worst case: "
                    + "the hook's call out of generated code and its frameless fast path cost about 23 host "
                    + "instructions a block, against 35 for the whole iteration without it (callgrind over a C harness "
                    + "on the same libunicorn; 40 before the fast path). QEMU without icount pays nothing: its timer "
                    + "is host time, so its interrupts land at no fixed instruction. What would close it: count in "
                    + "the generated code itself (QEMU's icount decrements a counter inline), which libunicorn 2.1.4 "
                    + "offers only as a per-instruction hook. The host-time mode (`--clock host`, the sieve rows below) "
                    + "counts nothing and gives up determinism for it, as QEMU does; this row is the deterministic default.",
                    timer.median));
        }

        Ratio fault = pairRow("demand-paging #PF round trip incl. the #DF workaround", column(pairs + "page_fault_kemu_ns"),
                "ns", column(pairs + "page_fault_c_ns"), "C handler doing the same", "<= 0.7x C", r -> r.median <= 0.7,
                "kemu: VMA lookup, buddy frame (zeroed), 4-level map, TLB flush, context patch; C: bump frame, one PTE");
        if (fault.median > 0.7) {
            misses.add(String.format(Locale.ROOT, "**#PF round trip** is %.2fx C (goal 0.7x): kemu does more per fault "
                    + "(a zeroed buddy frame, a 4-level walk, the VMA lookup) than the C handler's bump allocation into "
                    + "one prepared page table; both pay Unicorn's context save/restore for the #DF workaround.",
                    fault.median));
        }

        Figure pair = jmh.get("kmallocKfreePair");
        if (pair != null) {
            double pairsPerSecond = 1e9 / pair.median;
            row("kmalloc + kfree pair from guest code, sizes 8 B - 4 KiB (booted kernel, no test-harness write tracking)",
                    pair, "ns", null, "none (absolute)", Double.NaN, ">= 3 M pairs/s", pairsPerSecond >= 3e6,
                    String.format(Locale.ROOT, "%.2f M pairs/s (median)", pairsPerSecond / 1e6));
            if (pairsPerSecond < 3e6) {
                misses.add(String.format(Locale.ROOT, "**kmalloc + kfree** reaches %.2f M pairs/s (goal 3 M). A pair "
                        + "from guest code is two hypercall round trips (%.0f ns each, above); the rest is the Java "
                        + "services' walk of the slab and buddy metadata in guest RAM. What would close it: fewer "
                        + "guest-RAM reads per call, or a batched allocation service (one hypercall for several "
                        + "objects).", pairsPerSecond / 1e6, hypercall.median));
            }
        }

        kasanRow();

        gdbRow("gdb `stepi` round trip (same gdb, same kernel; bench/gdb.sh)", "stepi");
        gdbRow("gdb `continue` to a breakpoint hit (`break say`, kmain's console routine)", "hit");
        Figure reverse = plain.get("gdb_reverse_stepi_ms");
        if (reverse != null) {
            row("gdb `reverse-stepi` after 1 M instructions (restore a checkpoint, execute up to 100,000 again)", reverse,
                    "ms", null, "none (kemu's own goal: interactive)", Double.NaN, "<= 100 ms", reverse.median <= 100, "");
        }

        int[] dirty = {2, 16, 256};
        double[] goals = {1, 5, 100};
        for (int i = 0; i < dirty.length; i++) {
            Figure reset = Figure.of(column(pairs + "reset_" + dirty[i] + "_kemu_us"));
            double goal = goals[i];
            Ratio ratio = pairRow("reset of the booted 64 MiB machine, " + dirty[i] + " dirty pages",
                    column(pairs + "reset_" + dirty[i] + "_kemu_us"), "us", column(pairs + "cow_" + dirty[i] + "_us"),
                    "Unicorn copy-on-write snapshot restore", "<= " + (int) goal + " us and faster than CoW",
                    r -> reset.median <= goal && r.max < 1,
                    "includes comparing the page tables the MMU may have touched and restoring the CPU context; the TLB is "
                            + "flushed only when a table or the paging mode changed");
            if (reset.median > goal) {
                misses.add(String.format(Locale.ROOT, "**Reset, %d dirty pages**: %.2f us (goal %.0f us, %.2fx CoW): "
                        + "besides the pages themselves a reset compares the page tables the MMU may have touched and "
                        + "restores the CPU context (one uc_context_restore, about 90 ns).", dirty[i], reset.median, goal, ratio.median));
            }
        }

        testsPerSecondRows("tests_per_second", "");
        testsPerSecondRows("tests_per_second_unwatched", ", `-Dkemu.guest.timeout=0`: no watchdog, each run on the "
                + "test's own thread");

        Ratio boot = pairRow("boot to kmain in-process, warm JVM (new engine, 64 MiB, load, boot, close)",
                column(pairs + "boot_kemu_us"), "us", column(pairs + "boot_c_us"), "C driver, same image", "<= 1.2x C",
                r -> r.median <= 1.2, "");
        if (boot.median > 1.2) {
            misses.add(String.format(Locale.ROOT, "**Boot to kmain** is %.2fx C (goal 1.2x). Besides what the C driver "
                    + "does, the Java side mmaps guest RAM, registers its hooks and sets up the kernel services' "
                    + "objects.", boot.median));
        }
        instructionRows();

        smpRows();
        snippetAssemblyRow();
        wholeProcessRow();
        daemonProcessRow();
        faultBootRow();
        guestKernelRows();
        footprintRows();
        return header() + String.join("\n", rows) + "\n\n" + notes();
    }

    private void wholeProcessRow() {
        processAgainstQemu("whole.kemu", "`./kemu boot` whole process, wall time",
                "console output identical up to the services probe (checked in the run)",
                "**Whole process**: `./kemu boot` takes %.0f ms against QEMU's %.0f ms (%.1fx). The emulation itself is "
                        + "a few ms (see boot to kmain); the rest is JVM start-up: class loading and linking, and the FFM "
                        + "linker generating its downcall and upcall stubs. What would close the rest: a native image, or "
                        + "the resident daemon (next row).");
    }

    /** The same boot through the resident daemon (./kemu daemon start): the client's process, the daemon's JVM warm. */
    private void daemonProcessRow() {
        processAgainstQemu("whole.daemon", "`./kemu boot` whole process through the resident daemon, wall time",
                "`./kemu daemon start` before the rounds; output as without it (DaemonOutputTest)",
                "**Whole process through the daemon**: %.0f ms against QEMU's %.0f ms (%.2fx): the launcher's checks "
                        + "(bash, a find over the sources), the client's connection and the boot itself in the warm JVM.");
    }

    /** A whole-process column against QEMU's in the same rounds; {@code miss} formats kemu's, QEMU's ms and the ratio. */
    private void processAgainstQemu(String kemuColumn, String name, String note, String miss) {
        double[] kemu = column(kemuColumn), qemu = column("whole.qemu");
        if (kemu == null || qemu == null) {
            rows.add("| " + name + " | not measured | QEMU or kemu's side missing | | <= QEMU | skipped |");
            return;
        }
        Ratio ratio = pairRow(name, kemu, "ms", qemu,
                "qemu-system-x86_64 -kernel, same image (elf32), debugcon + isa-debug-exit", "<= QEMU",
                r -> r.median <= 1, note);
        if (ratio.median > 1) {
            misses.add(String.format(Locale.ROOT, miss, Figure.of(kemu).median, Figure.of(qemu).median, ratio.median));
        }
    }

    /** A boot that stops with a fault report against the same image's boot that exits without one. */
    private void faultBootRow() {
        double[] fault = column("fault.fault"), plainBoot = column("fault.plain");
        if (fault == null || plainBoot == null) {
            return;
        }
        Ratio ratio = pairRow("`./kemu boot` that stops with a fault report (sieve32 `fault`: ud2, no IDT)", fault, "ms",
                plainBoot, "the same image exiting at once, no fault (sieve32 `empty`)", "<= 1.3x", r -> r.median <= 1.3,
                "whole processes; the report disassembles the faulting code and resolves symbols and lines");
        if (ratio.median > 1.3) {
            misses.add(String.format(Locale.ROOT, "**Fault report** boot is %.2fx the boot without a fault (goal 1.3x): "
                    + "the report's first use of Capstone (loading the library and the disassembler) and of the "
                    + "kernel's DWARF line table happens inside the measured process; loading them lazily on a worker "
                    + "thread while the guest runs, or an AOT cache trained on a faulting boot, would hide it.",
                    ratio.median));
        }
    }

    /** sieve32 (src/test/kernels) under kemu and QEMU TCG: the guest part, and a 1 kHz timer on against off. */
    private void guestKernelRows() {
        double[] kemuSieve = column("guest.kemu_sieve"), qemuSieve = column("guest.qemu_sieve");
        if (kemuSieve == null || qemuSieve == null) {
            rows.add("| a user's compute-bound kernel (sieve32) against QEMU TCG | not measured | QEMU missing | | "
                    + "<= 1.0x QEMU | skipped |");
            return;
        }
        double[] kemuEmpty = column("guest.kemu_empty"), qemuEmpty = column("guest.qemu_empty");
        Ratio sieve = pairRow("a user's compute-bound kernel run to its exit: sieve32, a sieve over 64 MiB (Multiboot, "
                        + "--ram=96 --budget=0), guest part: the run minus an immediately exiting run of the same image",
                minus(kemuSieve, kemuEmpty), "ms", minus(qemuSieve, qemuEmpty),
                "qemu-system-x86_64 TCG, same image, -m 96M", "<= 1.0x QEMU", r -> r.median <= 1.0,
                String.format(Locale.ROOT, "start-up %.0f ms (kemu) / %.0f ms (QEMU), medians",
                        Figure.of(kemuEmpty).median, Figure.of(qemuEmpty).median));
        if (sieve.median > 1.0) {
            misses.add(String.format(Locale.ROOT, "**Compute-bound kernel**: the sieve's guest part takes %.2fx QEMU's "
                    + "(goal 1.0x). Not diagnosed yet (perf has no hardware counter on this machine). Candidates: "
                    + "Unicorn 2.1's TCG is QEMU 5's, against the reference's newer QEMU, and checks for hooks in "
                    + "every translated block; and the hooks `./kemu boot` registers (ports, interrupts, unmapped "
                    + "memory). The raw-loop row above is the engine alone. What would tell them apart: the C driver "
                    + "running the same image with no hooks, and a callgrind profile of that run.", sieve.median));
        }
        // The whole 64 MiB sieve (about 1,300 ticks), not a shorter one: a tick's Java path runs interpreted for its
        // first couple of hundred calls (until the JIT compiles it), a warm-up a 300-tick run would be made of.
        double[] kemuTimer = column("guest.kemu_timer"), qemuTimer = column("guest.qemu_timer");
        double[] kemuOff = minus(kemuSieve, kemuEmpty);
        Ratio qemu = Ratio.of(minus(qemuTimer, qemuEmpty), minus(qemuSieve, qemuEmpty));
        Ratio kemu = pairRow("sieve32 over 64 MiB with PIT channel 0 interrupting at 1 kHz against without (kemu, guest "
                        + "part)", minus(kemuTimer, kemuEmpty), "ms", kemuOff, "kemu, the same sieve, no timer",
                "on/off <= 1.05", r -> r.median <= 1.05, "QEMU on/off: " + qemu.text());
        double[] kemuHostTimer = column("guest.kemu_host_timer");
        Ratio host = kemuHostTimer == null ? null : pairRow("the same with `--clock host` (timer time from the host's "
                        + "clock, as QEMU without -icount; docs/interrupts.md, \"Host time\")",
                minus(kemuHostTimer, kemuEmpty), "ms", kemuOff, "kemu, the same sieve, no timer",
                "on/off <= 1.05", r -> r.median <= 1.05, "no counting: a host alarm stops the engine at each deadline");
        if (kemu.median > 1.05) {
            misses.add(String.format(Locale.ROOT, "**1 kHz timer in a user's kernel** slows kemu's sieve %.2fx in the "
                    + "deterministic default (goal 1.05x; QEMU: %s): the same virtual-time counting per block as the "
                    + "compute-loop row. %s", kemu.median, qemu.text(), host == null ? ""
                    : host.median <= 1.05 ? String.format(Locale.ROOT, "With `--clock host` it is %.2fx, as QEMU "
                    + "without -icount: no counting, a host alarm ends the quantum at each deadline.", host.median)
                    : String.format(Locale.ROOT, "With `--clock host` it is still %.2fx: each tick is an alarm "
                    + "stop, a delivery in Java and a restart of the engine.", host.median)));
        }
    }

    /** The C driver's host instructions (bench/instructions.sh): a figure a busy machine does not move. */
    private void instructionRows() {
        String[][] figures = {
                {"insns_c_raw", "C driver: host instructions per guest instruction, raw loop", "insns"},
                {"insns_c_hypercall", "C driver: host instructions per hypercall round trip (C hook)", "insns"},
                {"insns_c_boot", "C driver: host instructions per boot to kmain", "insns"}};
        for (String[] figure : figures) {
            Figure count = plain.get(figure[0]);
            if (count != null) {
                row(figure[1] + " (counted, not timed; counter in the versions above)", count, figure[2], null,
                        "none (the native side's floor)", Double.NaN, "measured", true, "");
            }
        }
    }

    private void footprintRows() {
        Figure small = plain.get("footprint_64"), large = plain.get("footprint_1024");
        if (small == null || large == null) {
            return;
        }
        double smallTouched = plain.get("footprint_64_touched").median, largeTouched = plain.get("footprint_1024_touched").median;
        boolean met = large.median - small.median < 16 * 1024 + 2 * (largeTouched - smallTouched);
        rows.add(String.format(Locale.ROOT, "| resident memory growth of a booted machine, 64 MiB guest | %.1f MiB | "
                        + "guest pages touched: %.1f MiB | | grows with pages touched | %s |", small.median / 1024,
                smallTouched / 1024, met ? "met" : "**missed**"));
        rows.add(String.format(Locale.ROOT, "| resident memory growth of a booted machine, 1 GiB guest | %.1f MiB | "
                        + "guest pages touched: %.1f MiB | | not with RAM size (16x more RAM) | %s |", large.median / 1024,
                largeTouched / 1024, met ? "met" : "**missed**"));
    }

    /** kemu's stub against QEMU's, when bench/gdb.sh could run both (gdb and QEMU installed). */
    private void gdbRow(String name, String figure) {
        Figure kemu = plain.get("gdb_" + figure + "_kemu_ms");
        Figure qemu = plain.get("gdb_" + figure + "_qemu_ms");
        if (kemu == null || qemu == null) {
            return;
        }
        boolean met = kemu.median <= Math.max(qemu.median, 0);
        row(name, kemu, "ms", qemu, "qemu-system-x86_64 -s -S", qemu.median > 0 ? kemu.median / qemu.median : Double.NaN,
                ">= QEMU's rate (<= its time)", met, String.format(Locale.ROOT, "%.0f against %.0f per second; timed "
                        + "inside one gdb session after 10 untimed operations (bench/gdb-ops.py), sessions interleaved",
                        1000 / kemu.median, 1000 / qemu.median));
        if (!met) {
            misses.add(String.format(Locale.ROOT, "**gdb %s**: %.2f ms against QEMU's %.2f ms, timed inside one warm gdb "
                    + "session; what is left is the stub's own cost per round trip.", figure, kemu.median, qemu.median));
        }
    }

    /** Issue 13's figures for several CPUs (SmpCost): a 2-CPU boot against a 1-CPU one, and one turn switch. */
    private void smpRows() {
        Figure one = plain.get("smp_boot1_ms"), two = plain.get("smp_boot2_ms");
        Figure oneInsns = plain.get("smp_boot1_insns"), twoInsns = plain.get("smp_boot2_insns");
        if (one == null || two == null || oneInsns == null || twoInsns == null) {
            rows.add("| boot of kemu's kernel with --cpus 2 against --cpus 1 | not measured | | | measured | skipped |");
        } else {
            row("boot of kemu's kernel with --cpus 2 (APs up through INIT-SIPI-SIPI, 10 timer ticks; KernelBoot.run)",
                    two, "ms", one, "--cpus 1", two.median / one.median, "measured", true,
                    String.format(Locale.ROOT, "%.0f instructions over both CPUs against %.0f (deterministic)",
                            twoInsns.median, oneInsns.median));
        }
        Figure turn = plain.get("smp_turn_switch_us");
        if (turn != null) {
            row("one turn switch between two CPUs (translation-cache flush included; docs/smp.md)", turn, "us", null,
                    "none (absolute)", Double.NaN, "measured", true,
                    "100- against 10,000,000-instruction turns over the same 2-instruction loops");
        }
    }

    /** Issue 18's goal: a distinct new snippet assembled by Keystone in process >= 20x faster than forking GNU. */
    private void snippetAssemblyRow() {
        Figure keystone = plain.get("snippet_keystone_ms");
        Figure gnu = plain.get("snippet_gnu_ms");
        Figure cold = plain.get("snippet_keystone_cold_ms");
        Figure early = plain.get("snippet_keystone_early_ms");
        if (keystone == null || gnu == null) {
            return;
        }
        double speedup = gnu.median / keystone.median;
        List<String> notes = new ArrayList<>();
        notes.add("warm: the last quarter of the JVM's snippets");
        if (early != null) {
            notes.add(String.format(Locale.ROOT, "snippets 100 to 400 of a JVM, while the JIT still compiles Keystone's "
                    + "classes: %.2f ms, %.1fx", early.median, gnu.median / early.median));
        }
        if (cold != null) {
            notes.add(String.format(Locale.ROOT, "first snippet of a JVM %.0f ms (module parse and instance)", cold.median));
        }
        row("assemble + link one distinct new snippet (4 instructions, kemu.inc, kernel symbols), Keystone in process",
                keystone, "ms", gnu, "GNU as + ld forked", speedup, "GNU/Keystone >= 20x", speedup >= 20,
                String.join("; ", notes));
        if (speedup < 20 || early != null && gnu.median / early.median < 20) {
            misses.add(String.format(Locale.ROOT, "**Snippet assembly**: Keystone is %.1fx faster than forking GNU once "
                    + "warm (goal 20x), %s. Keystone runs as JVM classes compiled from its WebAssembly module (the "
                    + "versions line), whose large methods the JIT takes about a thousand snippets to compile on 2 cores; "
                    + "once warm, Keystone's own ks_asm (it sets up LLVM's assembler for every call) and kemu's link "
                    + "share the time (writing the disk cache is under 0.1 ms). What would close the early gap: one "
                    + "ks_asm for many snippets, an AOT cache holding the JIT's profiles, or a native Keystone.", speedup,
                    early == null ? "no early figure" : String.format(Locale.ROOT, "%.1fx for snippets 100 to 400",
                            gnu.median / early.median)));
        }
    }

    /** Issue 18: what --kasan costs on kmalloc(32) + an access each way + kfree from guest code (KasanBenchmark). */
    private void kasanRow() {
        Figure on = jmh.get("kasan_true"), off = jmh.get("kasan_false");
        if (on == null || off == null) {
            return;
        }
        double ratio = on.median / off.median;
        row("`--kasan` on the kmalloc benchmark: kmalloc(32), a write and a read of the object, kfree (KasanBenchmark)",
                on, "ns", off, "the same without --kasan", ratio, "<= 3x", ratio <= 3,
                "JMH, the two settings one after the other in one JVM; one memory hook per slab and CPU");
        if (ratio > 3) {
            misses.add(String.format(Locale.ROOT, "**--kasan** slows the kmalloc benchmark %.2fx (goal 3x): once any "
                    + "memory hook exists, libunicorn 2.1.4 sends every guest load and store through its slow path; "
                    + "page protection (uc_mem_protect) of the watched slabs instead would keep the rest fast.", ratio));
        }
    }

    private void row(String name, Figure kemu, String unit, Figure reference, String referenceName, double ratio,
                     String goal, boolean met, String note) {
        String ref = reference == null ? referenceName
                : String.format(Locale.ROOT, "%s / %s %s (%s)", fmt(reference.min), fmt(reference.median), unit, referenceName);
        rows.add(String.format(Locale.ROOT, "| %s | %s / %s %s | %s | %s | %s | %s |", name, fmt(kemu.min),
                fmt(kemu.median), unit, ref, Double.isNaN(ratio) ? "" : String.format(Locale.ROOT, "%.2f", ratio), goal,
                (met ? "met" : "**missed**") + (note.isEmpty() ? "" : "; " + note)));
    }

    private static String fmt(double value) {
        return value >= 100 ? String.format(Locale.ROOT, "%.0f", value) : String.format(Locale.ROOT, "%.2f", value);
    }

    private String header() throws IOException {
        String machine = String.join(", ", Files.readAllLines(dir.resolve("machine.txt")));
        String versions = String.join("; ", Files.readAllLines(dir.resolve("versions.txt")));
        String fidelity = Files.exists(dir.resolve("fidelity.txt")) ? Files.readString(dir.resolve("fidelity.txt")).trim()
                : "not checked (QEMU missing)";
        return """
                # kemu benchmarks

                Written by `make bench` (bench/run.sh) on %s. Every ratio comes from interleaved rounds: in
                each round kemu's side and its reference run back to back, the order swapped every round, so
                drift on a shared machine lands on both. A ratio is the median of the rounds' pair ratios, with
                their range in brackets; each side shows min / median over the rounds.

                - machine: %s
                - versions: %s
                - harnesses: JMH 1.37 driven per round in one JVM (InterleavedRounds: a short warm-up and one
                  measured iteration, no fork), against
                  bench/c/kemu_bench.c started once per figure and round (gcc -O2, same libunicorn, same guest
                  code bench/guest/loops.S); whole processes alternated by AlternatingProcesses; Unicorn's
                  Python binding; host instructions of the C driver counted by bench/instructions.sh
                - QEMU fidelity: %s

                | figure | kemu (min / median) | reference (min / median) | ratio | goal | result |
                |---|---|---|---|---|---|
                """.formatted(LocalDate.now(), machine, versions, fidelity);
    }

    private String notes() {
        StringBuilder text = new StringBuilder("## Goals missed, by how much, and why\n\n");
        if (misses.isEmpty()) {
            text.append("None.\n");
        }
        misses.forEach(m -> text.append("- ").append(m).append('\n'));
        text.append("""

                ## How the figures are taken

                - Interleaving: `InterleavedRounds` runs, per round, each JMH benchmark (in its own JVM, which stays
                  warm across rounds) next to the C driver started for the same figure, swapping which goes first
                  every round; `AlternatingProcesses` does the same for whole processes (kemu, QEMU), rotating
                  the order. A run that exits with the wrong status or lacks its expected output stops the bench.
                - Host instructions (bench/instructions.sh): the C driver's count with 4 repetitions minus that
                  with 2, over the work of the 2; `perf stat -e instructions` when the machine has the hardware
                  counter, else valgrind's callgrind (which one is in the versions line). The JVM side is not
                  counted: callgrind slows a JVM beyond use and perf has no counter here.
                - sieve32 (src/test/kernels/sieve32.c): the same image and flags under `./kemu boot --ram=96
                  --budget=0` and `qemu-system-x86_64 -m 96M` (TCG), the command line picking the variant; the
                  guest part is a run minus the same round's `empty` run (start-up, load, exit). The 1 kHz timer
                  rows are the whole sieve with `timer` against without.
                - Fault report: sieve32 `fault` (prints, then `ud2` with no IDT: kemu stops with its report)
                  against sieve32 `empty` (prints and exits), both whole `./kemu boot` processes.
                - Raw emulation: 50 M iterations of a 10-instruction loop, no instruction counting (kemu counts
                  instructions only when a run has a budget).
                - JMH figures without a reference (kmalloc, `--kasan`, the timer round trip, address spaces): one
                  fork, 6 warm-up iterations of 1 s, then 5 measured ones of 1 s; the kmalloc path reaches the JIT's
                  steady state only after a few seconds.
                - Hypercall: 2 M iterations of `out 0xE6` with service 1 = rdi + rsi; kemu's native trampoline
                  (native/kemu_hooks.c) reads the argument registers and writes RAX around one Java upcall; the C
                  reference hook reads the same two registers with `uc_reg_read_batch` and writes RAX.
                - #PF: 400 first touches of a demand-paged VMA in the booted kernel per invocation (kemu), 400 first
                  touches of an unmapped 4 KiB page table region with a C handler (reference).
                - Reset: `TestMachine.reset()` after host writes dirtied N pages; Unicorn's copy-on-write snapshot
                  (`UC_CTL_CONTEXT_MEMORY`) restore after `uc_mem_write` dirtied N pages.
                - Tests per second: `TrivialGuestCases` (5,000 repetitions) through the JUnit Platform launcher.
                  A run ends on the `hlt` kemu appends to each snippet: `uc_emu_start` with an end address makes
                  Unicorn re-translate code (about 3.4 us per call, against 0.1 us to stop on a `hlt`).
                - Resident memory: RSS growth of a JVM with a fixed pre-touched heap from before the machine to after
                  its boot, and the guest RAM pages resident (`mincore`).
                """);
        return text.toString();
    }
}
