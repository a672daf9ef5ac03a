#!/usr/bin/env bash
# `make bench`: every figure of BENCHMARKS.md in one run on this machine, each next to its
# reference measured in the same run (C driver on the same libunicorn, Unicorn's Python
# binding, QEMU), then writes BENCHMARKS.md. Takes about 10 minutes.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/target/bench"
mkdir -p "$OUT"
cd "$ROOT"
say() { echo "bench: $*" >&2; }

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
KERNEL=target/kernel/default/kernel.elf
FIRMWARE=target/kernel/firmware.elf
objcopy -O binary "$FIRMWARE" "$OUT/firmware.bin"
objcopy -O binary "$KERNEL" "$OUT/kernel.bin"
objcopy -O elf32-i386 "$KERNEL" "$OUT/kernel32.elf"
sym() { nm "$1" | awk -v s="$2" '$3 == s { print $1 }'; }

say "C reference driver"
UC="$ROOT/.native/unicorn"
gcc -O2 -I "$UC/include" -o "$OUT/kemu_bench" bench/c/kemu_bench.c -L "$UC/lib" -l:libunicorn.so.2 -Wl,-rpath,"$UC/lib"
"$OUT/kemu_bench" "$OUT/loops.bin" "$OUT/firmware.bin" "$OUT/kernel.bin" "$(sym $FIRMWARE fw_entry)" \
    "$(sym $FIRMWARE fw_kernel_entry)" "$(sym $FIRMWARE fw_boot_info)" \
    "$(readelf -h $KERNEL | awk '/Entry point/ { sub("0x", "", $4); print $4 }')" "$(sym $KERNEL kmain)" | tee "$OUT/c.txt"

say "Python binding (unicorn $(cat .native/unicorn/VERSION) from pip)"
rm -f "$OUT/python.txt"
if [[ ! -x "$OUT/pyvenv/bin/python" ]]; then
    python3 -m venv "$OUT/pyvenv" && "$OUT/pyvenv/bin/pip" install --quiet --retries 1 "unicorn==$(cat .native/unicorn/VERSION)" \
        || say "could not install the Python binding; its figure is skipped"
fi
if [[ -x "$OUT/pyvenv/bin/python" ]] && "$OUT/pyvenv/bin/python" -c "import unicorn" 2>/dev/null; then
    "$OUT/pyvenv/bin/python" bench/python/hypercall.py "$OUT/loops.bin" | tee "$OUT/python.txt"
fi

say "JMH: engine and kernel paths"
"$JAVA" "${JVM[@]}" -cp "$CP" org.openjdk.jmh.Main 'dev.kemu.bench.(Engine|Kernel|Spaces|Interrupt)Benchmark' \
    -rf json -rff "$OUT/jmh.json" > "$OUT/jmh.log"
grep -E "^(Engine|Kernel|Spaces|Interrupt)Benchmark" "$OUT/jmh.log" >&2 || true

say "guest tests per second through the JUnit 5 extension"
"$JAVA" "${JVM[@]}" -cp "$CP" dev.kemu.bench.TestsPerSecond 5 | tee "$OUT/tests.txt"

say "assembling one distinct snippet: Keystone in process against GNU as + ld"
"$JAVA" "${JVM[@]}" -cp "$CP" dev.kemu.bench.SnippetAssemblyCost 400 40 | tee "$OUT/assembly.txt"
for assembler in keystone gnu; do   # guest tests per second when every test has a new snippet
    "$JAVA" "${JVM[@]}" -Dkemu.assembler=$assembler -cp "$CP" dev.kemu.bench.TestsPerSecond 2 distinct | tee -a "$OUT/assembly.txt"
done

say "several CPUs: a 2-CPU boot of kemu's kernel against a 1-CPU boot, and one turn switch"
"$JAVA" "${JVM[@]}" -cp "$CP" dev.kemu.bench.SmpCost 7 | tee "$OUT/smp.txt"

say "resident memory, 64 MiB and 1 GiB guests (fixed, pre-touched heap so GC does not move RSS)"
: > "$OUT/footprint.txt"
for mib in 64 1024; do
    "$JAVA" "${JVM[@]}" -Xms96m -Xmx96m -XX:+AlwaysPreTouch -XX:+UseSerialGC -cp "$CP" dev.kemu.bench.Footprint "$mib" \
        | tee -a "$OUT/footprint.txt"
done

say "whole process: ./kemu boot against qemu-system-x86_64 -kernel"
if ! command -v qemu-system-x86_64 >/dev/null && [[ $(id -u) == 0 ]]; then
    apt-get install -y -q qemu-system-x86 >/dev/null 2>&1 || true
fi
if ! command -v hyperfine >/dev/null && [[ $(id -u) == 0 ]]; then
    apt-get install -y -q hyperfine >/dev/null 2>&1 || true
fi
QEMU=(qemu-system-x86_64 -kernel "$OUT/kernel32.elf" -m 64M -display none -no-reboot
      -debugcon "file:$OUT/qemu-console.txt" -device isa-debug-exit,iobase=0xf4,iosize=0x04)
rm -f "$OUT/whole.json" "$OUT/fidelity.txt"
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
    if command -v hyperfine >/dev/null; then
        hyperfine --warmup 2 --runs 10 -i --export-json "$OUT/whole.json" \
            -n kemu "./kemu boot" -n qemu "${QEMU[*]}" >&2
        hyperfine --version >> "$OUT/versions.txt"
    else
        say "hyperfine is not installed; the whole-process figure is skipped"
    fi
else
    say "qemu-system-x86_64 is not installed; the QEMU comparison is skipped"
fi

say "gdb: kemu's stub against QEMU's (stepi, breakpoint hits), interleaved"
bench/gdb.sh "$OUT" "$KERNEL" "$OUT/kernel32.elf" || say "the gdb figures failed (see above); they are left out"
"$JAVA" "${JVM[@]}" -cp "$CP" dev.kemu.gdb.ReverseStepCost "$OUT/gdb.txt" || say "the reverse-stepi figure failed (see above)"

say "writing BENCHMARKS.md"
{ uname -srm; lscpu | sed -n 's/^Model name: *//p'; nproc; free -h | awk '/Mem:/ { print $2 }'; } > "$OUT/machine.txt"
"$JAVA" "${JVM[@]}" -cp "$CP" dev.kemu.bench.BenchmarkReport "$OUT" "$ROOT/BENCHMARKS.md"
say "done: BENCHMARKS.md"
