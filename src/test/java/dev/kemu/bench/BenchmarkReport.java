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
        for (String file : List.of("c.txt", "python.txt", "tests.txt", "footprint.txt", "gdb.txt", "assembly.txt", "smp.txt")) {
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
            String name = result.get("benchmark").asText().replaceAll(".*\\.", "");
            JsonNode params = result.get("params");
            if (params != null && params.has("pages")) {
                name += "_" + params.get("pages").asText();
            }
            List<Double> samples = new ArrayList<>();
            for (JsonNode fork : result.get("primaryMetric").get("rawData")) {
                fork.forEach(v -> samples.add(v.asDouble()));
            }
            jmh.put(name, Figure.of(samples.stream().mapToDouble(Double::doubleValue).toArray()));
        }
    }

    private String render() throws IOException {
        Figure rawJava = jmh.get("rawInstruction").map(ns -> 1000 / ns);
        Figure rawC = plain.get("raw_mips");
        row("raw emulation, guest loop, no hooks", rawJava, "MIPS", rawC, "C driver", rawJava.median / rawC.median,
                "Java/C >= 0.97", rawJava.median / rawC.median >= 0.97, "");

        Figure hypercall = jmh.get("hypercallRoundTrip");
        Figure hypercallC = plain.get("hypercall_ns");
        Figure python = plain.get("python_hypercall_ns");
        double vsC = hypercall.median / hypercallC.median;
        boolean pythonMet = python == null || python.median / hypercall.median >= 50;
        row("hypercall round trip: out -> Java reads 2 args, writes RAX -> guest", hypercall, "ns", hypercallC,
                "C hook doing the same", vsC, "<= 2x C; >= 50x faster than Python", vsC <= 2 && pythonMet,
                python == null ? "Python binding: not installable here, skipped"
                        : String.format(Locale.ROOT, "Python binding: %.0f / %.0f ns, kemu is %.0fx faster", python.min,
                        python.median, python.median / hypercall.median));
        Figure emptyHook = jmh.get("emptyOutHook");
        if (vsC > 2) {
            misses.add(String.format(Locale.ROOT, "**Hypercall round trip** is %.2fx C (goal 2x). An `out` hook that does "
                    + "nothing already costs %.0f ns in Java (the FFM upcall: thread-state transitions and the stub), against "
                    + "about 35 ns for a C hook. The registers already move in C (native/kemu_hooks.c) around one upcall.",
                    vsC, emptyHook.median));
        }

        Figure tick = jmh.get("timerInterruptRoundTrip");
        if (tick != null) {
            row("timer interrupt round trip: hlt sleeps to the PIT deadline, delivery through the IDT, handler with EOI, "
                    + "iretq (booted kernel; docs/interrupts.md)", tick, "ns", null, "none (absolute)", Double.NaN,
                    "measured", true, "");
        }
        Figure withTimer = jmh.get("computeLoopWithTimer1kHz");
        Figure withoutTimer = jmh.get("computeLoopInterruptsOff");
        if (withTimer != null && withoutTimer != null) {
            row("compute loop per instruction with a 1 kHz virtual timer interrupting it", withTimer, "ns", withoutTimer,
                    "the same loop, no interrupt hardware programmed", withTimer.median / withoutTimer.median,
                    "measured", true, "the difference is the native counting hook on every instruction");
        }

        Figure fault = jmh.get("demandPagingFault");
        Figure faultC = plain.get("page_fault_ns");
        row("demand-paging #PF round trip incl. the #DF workaround", fault, "ns", faultC, "C handler doing the same",
                fault.median / faultC.median, "<= 1.5x C", fault.median / faultC.median <= 1.5,
                "kemu: VMA lookup, buddy frame (zeroed), 4-level map, TLB flush, context patch; C: bump frame, one PTE");

        Figure pair = jmh.get("kmallocKfreePair");
        double pairsPerSecond = 1e9 / pair.median;
        row("kmalloc + kfree pair from guest code, sizes 8 B - 4 KiB (booted kernel, no test-harness write tracking)",
                pair, "ns", null, "none (absolute)", Double.NaN, ">= 2 M pairs/s", pairsPerSecond >= 2e6,
                String.format(Locale.ROOT, "%.2f M pairs/s (median)", pairsPerSecond / 1e6));
        if (pairsPerSecond < 2e6) {
            misses.add(String.format(Locale.ROOT, "**kmalloc + kfree** reaches %.2f M pairs/s (goal 2 M, %.0f%% of it). "
                    + "The allocators themselves cost about 95 ns per pair (the same loop over plain memory, no emulator); "
                    + "a pair from guest code adds two hypercall round trips (%.0f ns each, above), whose floor is the "
                    + "FFM upcall (about 60 ns against 35 ns for a C hook). What would close it: a batched allocation "
                    + "service (one hypercall for several objects).", pairsPerSecond / 1e6, 100 * pairsPerSecond / 2e6,
                    hypercall.median));
        }

        gdbRow("gdb `stepi` round trip (same gdb, same kernel; bench/gdb.sh)", "stepi");
        gdbRow("gdb `continue` to a breakpoint hit (`break say`, kmain's console routine)", "hit");
        Figure reverse = plain.get("gdb_reverse_stepi_ms");
        if (reverse != null) {
            row("gdb `reverse-stepi` after 1 M instructions (restore a checkpoint, execute up to 100,000 again)", reverse,
                    "ms", null, "none (kemu's own goal: interactive)", Double.NaN, "<= 100 ms", reverse.median <= 100, "");
        }

        int[] dirty = {2, 16, 256};
        double[] goals = {2, 10, 150};
        for (int i = 0; i < dirty.length; i++) {
            Figure reset = jmh.get("reset_" + dirty[i]).map(ns -> ns / 1000);
            Figure cow = plain.get("cow_restore_" + dirty[i] + "_us");
            boolean met = reset.median <= goals[i] && reset.median < cow.median;
            row("reset of the booted 64 MiB machine, " + dirty[i] + " dirty pages", reset, "us", cow,
                    "Unicorn copy-on-write snapshot restore", reset.median / cow.median,
                    "<= " + (int) goals[i] + " us and faster than CoW", met,
                    "includes the ~10 page-table pages always restored, the CPU context and a TLB flush");
        }

        Figure tests = plain.get("tests_per_second");
        row("guest regression tests per second (JUnit 5 extension, trivial snippet + 1 assertion)", tests, "tests/s",
                null, "none", Double.NaN, ">= 5,000 tests/s", tests.median >= 5000,
                "whole launcher run of 5,000 tests, including discovery and the first boot");
        if (tests.median < 5000) {
            misses.add(String.format(Locale.ROOT, "**Tests per second**: %.0f (goal 5,000). A test's own run costs "
                    + "about 7-10 us (restore 1.7 us, then `uc_emu_start` with the harness's hooks); the rest is JUnit's "
                    + "per-test bookkeeping.", tests.median));
        }

        Figure boot = jmh.get("bootToKmain").map(ns -> ns / 1000);
        Figure bootC = plain.get("boot_to_kmain_us");
        double bootRatio = boot.median / bootC.median;
        row("boot to kmain in-process, warm JVM (new engine, 64 MiB, load, boot, close)", boot, "us", bootC,
                "C driver, same image", bootRatio, "<= 1.5x C", bootRatio <= 1.5, "");
        if (bootRatio > 1.5) {
            misses.add(String.format(Locale.ROOT, "**Boot to kmain** is %.2fx C (goal 1.5x). Besides what the C driver "
                    + "does, the Java side mmaps guest RAM, registers its hooks (upcall stubs are shared per JVM, so only "
                    + "the registrations remain) and sets up the kernel services' objects; the host was noisy, so check "
                    + "the spread of the samples before reading much into this.", bootRatio));
        }

        smpRows();
        snippetAssemblyRow();
        wholeProcessRow();
        footprintRows();
        return header() + String.join("\n", rows) + "\n\n" + notes();
    }

    private void wholeProcessRow() throws IOException {
        Path whole = dir.resolve("whole.json");
        if (!Files.exists(whole)) {
            rows.add("| `./kemu boot` whole process, wall time | not measured | QEMU or hyperfine missing | | <= QEMU | skipped |");
            return;
        }
        Map<String, Figure> byName = new HashMap<>();
        for (JsonNode result : new ObjectMapper().readTree(whole.toFile()).get("results")) {
            List<Double> times = new ArrayList<>();
            result.get("times").forEach(t -> times.add(t.asDouble() * 1000));
            byName.put(result.get("command").asText(), Figure.of(times.stream().mapToDouble(Double::doubleValue).toArray()));
        }
        Figure kemu = byName.get("kemu"), qemu = byName.get("qemu");
        double ratio = kemu.median / qemu.median;
        row("`./kemu boot` whole process, wall time", kemu, "ms", qemu,
                "qemu-system-x86_64 -kernel, same image (elf32), debugcon + isa-debug-exit", ratio, "<= QEMU", ratio <= 1,
                "console output identical up to the services probe (checked in the run)");
        if (ratio > 1) {
            misses.add(String.format(Locale.ROOT, "**Whole process**: `./kemu boot` takes %.0f ms against QEMU's %.0f ms "
                    + "(%.1fx). The emulation itself is a few ms (see boot to kmain); the rest is JVM start-up: class "
                    + "loading and linking, and the FFM linker generating its ~40 downcall and upcall stubs. The `kemu` "
                    + "script already uses a JDK 25 AOT cache (a third off start-up) and C1 only. What would close the "
                    + "rest: a native image (GraalVM), or a resident kemu daemon that the command talks to.", kemu.median,
                    qemu.median, ratio));
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
                "<= QEMU's stub", met, "per operation: a session's time minus that of the same session without it");
        if (!met) {
            misses.add(String.format(Locale.ROOT, "**gdb %s**: %.2f ms against QEMU's %.2f ms. Each session is a new JVM, "
                    + "so the figure includes warming up the stub's code; every instruction of a gdb session pays the "
                    + "counting hook that reverse execution needs.", figure, kemu.median, qemu.median));
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
        if (keystone == null || gnu == null) {
            return;
        }
        double speedup = gnu.median / keystone.median;
        row("assemble + link one distinct new snippet (4 instructions, kemu.inc, kernel symbols), Keystone in process",
                keystone, "ms", gnu, "GNU as + ld forked", speedup, "GNU/Keystone >= 20x", speedup >= 20,
                cold == null ? "" : String.format(Locale.ROOT, "first snippet of a JVM %.0f ms (module parse and instance)",
                        cold.median));
        if (speedup < 20) {
            misses.add(String.format(Locale.ROOT, "**Snippet assembly**: Keystone is %.1fx faster than forking GNU (goal "
                    + "20x). It runs in Chicory's interpreter; compiling the module to JVM bytecode (Chicory's build-time "
                    + "compiler) was measured at ~0.12 ms per snippet but costs a build step (docs/keystone.md).", speedup));
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

                Written by `make bench` (bench/run.sh) on %s. Every figure is min / median over at least five
                repetitions after warm-up; the reference was measured in the same run on the same machine.
                Ratios are kemu's median over the reference's median.

                - machine: %s
                - versions: %s
                - harnesses: JMH 1.37 (Java figures), bench/c/kemu_bench.c (gcc -O2, same libunicorn, same guest
                  code bench/guest/loops.S), Unicorn's Python binding from pip, hyperfine (whole processes)
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

                - Raw emulation: 50 M iterations of a 10-instruction loop, no instruction counting (kemu counts
                  instructions only when a run has a budget).
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
