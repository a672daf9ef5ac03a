#!/usr/bin/env bash
# `make bench`: every figure of BENCHMARKS.md in one run on this machine, each next to its
# reference measured in the same run (C driver on the same libunicorn, Unicorn's Python
# binding, QEMU), then writes BENCHMARKS.md. Every ratio comes from interleaved rounds (kemu and
# its reference alternate inside one run). About 5 minutes on a quiet 2-core machine;
# BENCH_QUICK=1 is a smoke run (fewer, shorter rounds) that checks the pipeline in a few minutes.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/target/bench"
mkdir -p "$OUT"
cd "$ROOT"
say() { echo "bench: $*" >&2; }
if [[ ${BENCH_QUICK:-0} == 1 ]]; then
    ROUNDS=2 ITERATION_MS=150 PROCESS_ROUNDS=1 GUEST_ROUNDS=1 REPS=1 JMH_OPTIONS=(-wi 1 -i 2 -w 200ms -r 200ms)
    export GDB_ROUNDS=1 GDB_STEPS=50 GDB_HITS=20
else
    # 6 s of JMH warm-up: kmalloc's path (upcall, slab, buddy) is still being recompiled after 1.5 s (390 ns a pair,
    # against 320 ns from the sixth second on).
    ROUNDS=5 ITERATION_MS=300 PROCESS_ROUNDS=5 GUEST_ROUNDS=3 REPS=5 JMH_OPTIONS=(-wi 6 -i 5 -w 1s -r 1s)
    export GDB_ROUNDS=${GDB_ROUNDS:-3}
fi
load() { echo "$1: load average $(cut -d' ' -f1-3 /proc/loadavg)"; }
load "start" > "$OUT/load.txt"

scripts/natives.sh
JAVA_HOME=$(scripts/find-jdk.sh)
JAVA="$JAVA_HOME/bin/java"
scripts/mvn.sh -q test-compile
scripts/mvn.sh -q dependency:build-classpath -Dmdep.outputFile="$OUT/test-classpath.txt" -Dmdep.includeScope=test
CP="$ROOT/target/test-classes:$ROOT/target/classes:$(cat "$OUT/test-classpath.txt")"
# -XX:-DontCompileHugeMethods as in surefire and ./kemu: Keystone's compiled module has methods over 8,000 bytes.
JVM=(--enable-native-access=ALL-UNNAMED -XX:-DontCompileHugeMethods -Dkemu.home="$ROOT" -Dorg.slf4j.simpleLogger.defaultLogLevel=error)

# Guest code and images shared by every driver.
as --64 -o "$OUT/loops.o" bench/guest/loops.S
ld -Ttext=0x10000 -e 0x10000 --oformat=binary -o "$OUT/loops.bin" "$OUT/loops.o"
./kemu version > "$OUT/versions.txt"
make -s -C src/test/kernels OUT="$ROOT/target/test-kernels" "$ROOT/target/test-kernels/sieve32.elf"
KERNEL=target/kernel/default/kernel.elf
FIRMWARE=target/kernel/firmware.elf
objcopy -O binary "$FIRMWARE" "$OUT/firmware.bin"
objcopy -O binary "$KERNEL" "$OUT/kernel.bin"
objcopy -O elf32-i386 "$KERNEL" "$OUT/kernel32.elf"
sym() { nm "$1" | awk -v s="$2" '$3 == s { print $1 }'; }

say "C reference driver against kemu, interleaved rounds (JMH per round in one JVM, the C driver per figure)"
UC="$ROOT/.native/unicorn"
gcc -O2 -I "$UC/include" -o "$OUT/kemu_bench" bench/c/kemu_bench.c -L "$UC/lib" -l:libunicorn.so.2 -Wl,-rpath,"$UC/lib"
DRIVER=("$OUT/kemu_bench" "$OUT/loops.bin" "$OUT/firmware.bin" "$OUT/kernel.bin" "$(sym $FIRMWARE fw_entry)"
    "$(sym $FIRMWARE fw_kernel_entry)" "$(sym $FIRMWARE fw_boot_info)"
    "$(readelf -h $KERNEL | awk '/Entry point/ { sub("0x", "", $4); print $4 }')" "$(sym $KERNEL kmain)")
"$JAVA" "${JVM[@]}" -cp "$CP" dev.kemu.bench.InterleavedRounds "$OUT" "$ROUNDS" "$ITERATION_MS" "${DRIVER[@]}" > /dev/null
load "after the interleaved rounds" >> "$OUT/load.txt"

say "host instructions of the C driver (counted, not timed)"
bench/instructions.sh "$OUT" "${DRIVER[@]}" || say "the instruction counts failed (see above); they are left out"

say "Python binding (unicorn $(cat .native/unicorn/VERSION) from pip)"
rm -f "$OUT/python.txt"
if [[ ! -x "$OUT/pyvenv/bin/python" ]]; then
    python3 -m venv "$OUT/pyvenv" && "$OUT/pyvenv/bin/pip" install --quiet --retries 1 "unicorn==$(cat .native/unicorn/VERSION)" \
        || say "could not install the Python binding; its figure is skipped"
fi
if [[ -x "$OUT/pyvenv/bin/python" ]] && "$OUT/pyvenv/bin/python" -c "import unicorn" 2>/dev/null; then
    "$OUT/pyvenv/bin/python" bench/python/hypercall.py "$OUT/loops.bin" | tee "$OUT/python.txt"
fi

say "JMH: the figures without a reference (the ratios came from the interleaved rounds)"
"$JAVA" "${JVM[@]}" -cp "$CP" org.openjdk.jmh.Main "${JMH_OPTIONS[@]}" \
    'dev.kemu.bench.(EngineBenchmark.emptyOutHook|KernelBenchmark.kmallocKfreePair|InterruptBenchmark.timerInterruptRoundTrip|SpacesBenchmark.*|KasanBenchmark.*)$' \
    -rf json -rff "$OUT/jmh.json" > "$OUT/jmh.log"
grep -E "^(Engine|Kernel|Spaces|Interrupt|Kasan)Benchmark" "$OUT/jmh.log" >&2 || true

say "guest tests per second through the JUnit 5 extension"
"$JAVA" "${JVM[@]}" -cp "$CP" dev.kemu.bench.TestsPerSecond "$REPS" | tee "$OUT/tests.txt"
"$JAVA" "${JVM[@]}" -cp "$CP" dev.kemu.bench.TestsPerSecond "$REPS" threads | tee -a "$OUT/tests.txt"
# The same without the watchdog (-Dkemu.guest.timeout=0): each run on the test's own thread.
"$JAVA" "${JVM[@]}" -Dkemu.guest.timeout=0 -cp "$CP" dev.kemu.bench.TestsPerSecond "$REPS" | tee -a "$OUT/tests.txt"
"$JAVA" "${JVM[@]}" -Dkemu.guest.timeout=0 -cp "$CP" dev.kemu.bench.TestsPerSecond "$REPS" threads | tee -a "$OUT/tests.txt"

say "assembling one distinct snippet: Keystone in process against GNU as + ld"
# 2,000 Keystone snippets: the JIT is still compiling Keystone's classes for the first thousand or so (a snippet
# takes 1.5 ms at 400, 0.7 ms past 2,000); the report gives the early figure too.
"$JAVA" "${JVM[@]}" -cp "$CP" dev.kemu.bench.SnippetAssemblyCost $((REPS * 400)) $((REPS * 8)) | tee "$OUT/assembly.txt"
for assembler in keystone gnu; do   # guest tests per second when every test has a new snippet
    "$JAVA" "${JVM[@]}" -Dkemu.assembler=$assembler -cp "$CP" dev.kemu.bench.TestsPerSecond 2 distinct | tee -a "$OUT/assembly.txt"
done

say "several CPUs: a 2-CPU boot of kemu's kernel against a 1-CPU boot, and one turn switch"
"$JAVA" "${JVM[@]}" -cp "$CP" dev.kemu.bench.SmpCost $((REPS + 2)) | tee "$OUT/smp.txt"

say "resident memory, 64 MiB and 1 GiB guests (fixed, pre-touched heap so GC does not move RSS)"
: > "$OUT/footprint.txt"
for mib in 64 1024; do
    "$JAVA" "${JVM[@]}" -Xms96m -Xmx96m -XX:+AlwaysPreTouch -XX:+UseSerialGC -cp "$CP" dev.kemu.bench.Footprint "$mib" \
        | tee -a "$OUT/footprint.txt"
done

ALTERNATE=("$JAVA" "${JVM[@]}" -cp "$CP" dev.kemu.bench.AlternatingProcesses)
SIEVE=target/test-kernels/sieve32.elf
KEMU_SIEVE="./kemu boot --kernel=$SIEVE --ram=96 --budget=0 --timeout=0"
say "a boot that stops with a fault report against the same boot without a fault (kemu only)"
rm -f "$OUT/whole.rounds" "$OUT/fault.rounds" "$OUT/guest.rounds" "$OUT/fidelity.txt"
"${ALTERNATE[@]}" "$OUT/fault.rounds" "$PROCESS_ROUNDS" 1 "fault|4|=== #UD|$KEMU_SIEVE --cmdline=fault" \
    "plain|1|sieve32: empty run|$KEMU_SIEVE --cmdline=empty"

say "whole process: ./kemu boot against qemu-system-x86_64 -kernel"
if ! command -v qemu-system-x86_64 >/dev/null && [[ $(id -u) == 0 ]]; then
    apt-get install -y -q qemu-system-x86 >/dev/null 2>&1 || true
fi
QEMU=(qemu-system-x86_64 -kernel "$OUT/kernel32.elf" -m 64M -display none -no-reboot
      -debugcon "file:$OUT/qemu-console.txt" -device isa-debug-exit,iobase=0xf4,iosize=0x04)
# The kernel writes 0 to the exit port when its demo passed: status 1 under QEMU's rule (README).
boot_status=0
./kemu boot > "$OUT/kemu-boot.txt" 2>/dev/null || boot_status=$?
if [[ $boot_status != 1 ]]; then
    say "./kemu boot exited with status $boot_status, not 1 (the demo's success); see $OUT/kemu-boot.txt"
    exit 1
fi
if command -v qemu-system-x86_64 >/dev/null; then
    "${QEMU[@]}" || true
    # Fidelity: the same image prints the same lines under both, up to the services probe.
    kemu_lines=$(sed -n '/^--- debug console ---$/,/^--- summary ---$/p' "$OUT/kemu-boot.txt" | sed '1d;$d' \
        | sed '/kemu services/,$d')
    qemu_lines=$(sed '/kemu services/,$d' "$OUT/qemu-console.txt")
    if [[ "$kemu_lines" != "$qemu_lines" ]]; then
        say "FIDELITY FAILURE: console output differs between kemu and QEMU"
        diff <(echo "$qemu_lines") <(echo "$kemu_lines") >&2 || true
        exit 1
    fi
    echo "identical $(echo "$kemu_lines" | wc -l) lines before the services probe" > "$OUT/fidelity.txt"
    qemu-system-x86_64 -version | head -1 >> "$OUT/versions.txt"
    # The same ./kemu boot through a resident daemon (docs/startup.md), on a socket of the bench's own so that a
    # daemon the user runs is left alone; started before the rounds, stopped after them (and on a failure).
    DAEMON_ENV=(env KEMU_DAEMON_SOCKET="$OUT/kemu-daemon.sock")
    if "${DAEMON_ENV[@]}" ./kemu daemon start > "$OUT/daemon.txt"; then
        trap '"${DAEMON_ENV[@]}" ./kemu daemon stop > /dev/null 2>&1 || true' EXIT
        DAEMON_ROW="daemon|1||KEMU_DAEMON_SOCKET=$OUT/kemu-daemon.sock ./kemu boot"
    else
        say "the resident daemon did not start (no gcc for its client?); its row is skipped"
        DAEMON_ROW=""
    fi
    "${ALTERNATE[@]}" "$OUT/whole.rounds" "$PROCESS_ROUNDS" 1 "kemu|1||KEMU_DAEMON=0 ./kemu boot" ${DAEMON_ROW:+"$DAEMON_ROW"} \
        "qemu|1||${QEMU[*]}"
    "${DAEMON_ENV[@]}" ./kemu daemon status >> "$OUT/daemon.txt" || true
    "${DAEMON_ENV[@]}" ./kemu daemon stop > /dev/null || true


    say "a user's compute-bound kernel (sieve32) and its 1 kHz timer, kemu against QEMU TCG, same image and flags"
    QEMU_SIEVE="qemu-system-x86_64 -kernel $SIEVE -m 96M -display none -no-reboot -debugcon stdio -serial none"
    QEMU_SIEVE+=" -device isa-debug-exit,iobase=0xf4,iosize=0x04 -append"
    "${ALTERNATE[@]}" "$OUT/guest.rounds" "$GUEST_ROUNDS" 0 \
        "kemu_sieve|1|3957809 primes|$KEMU_SIEVE --cmdline=" "qemu_sieve|1|3957809 primes|$QEMU_SIEVE ''" \
        "kemu_empty|1|sieve32: empty run|$KEMU_SIEVE --cmdline=empty" "qemu_empty|1|sieve32: empty run|$QEMU_SIEVE empty" \
        "kemu_timer|1|3957809 primes|$KEMU_SIEVE --cmdline=timer" \
        "kemu_host_timer|1|3957809 primes|$KEMU_SIEVE --clock=host --cmdline=timer" \
        "qemu_timer|1|3957809 primes|$QEMU_SIEVE timer"
    load "after the whole processes" >> "$OUT/load.txt"
else
    say "qemu-system-x86_64 is not installed; the QEMU comparison is skipped"
fi

say "gdb: kemu's stub against QEMU's (stepi, breakpoint hits), interleaved"
bench/gdb.sh "$OUT" "$KERNEL" "$OUT/kernel32.elf" || say "the gdb figures failed (see above); they are left out"
"$JAVA" "${JVM[@]}" -cp "$CP" dev.kemu.gdb.ReverseStepCost "$OUT/gdb.txt" || say "the reverse-stepi figure failed (see above)"

say "writing BENCHMARKS.md"
load "end" >> "$OUT/load.txt"
"$JAVA" -version 2>&1 | head -1 >> "$OUT/versions.txt"
{ uname -srm; lscpu | sed -n 's/^Model name: *//p'; echo "$(nproc) cores"; free -h | awk '/Mem:/ { print $2 " RAM" }'
  paste -sd';' "$OUT/load.txt"; } > "$OUT/machine.txt"
"$JAVA" "${JVM[@]}" -cp "$CP" dev.kemu.bench.BenchmarkReport "$OUT" "$ROOT/BENCHMARKS.md"
say "done: BENCHMARKS.md"
