#!/usr/bin/env bash
# The gdb figures of `make bench`: kemu's stub against `qemu-system-x86_64 -s -S`, the same gdb and
# the same kernel, interleaved (kemu, QEMU, kemu, QEMU, ...) so that drift lands on both sides.
# Each figure is timed inside one gdb session (bench/gdb-ops.py): N stepi, then N continues to a
# breakpoint, each after GDB_WARM untimed ones. Writes "$OUT/gdb.txt": `name min median` per line (ms).
# Usage: bench/gdb.sh OUT KERNEL_ELF KERNEL_ELF32
set -euo pipefail
OUT=$1 KERNEL=$2 KERNEL32=$3
ROUNDS=${GDB_ROUNDS:-5} STEPS=${GDB_STEPS:-120} HITS=${GDB_HITS:-40}
say() { echo "bench: $*" >&2; }
command -v gdb >/dev/null || { say "gdb is not installed; the gdb figures are skipped"; exit 0; }
command -v qemu-system-x86_64 >/dev/null || { say "QEMU is not installed; the gdb figures are skipped"; exit 0; }

port=14000
session() { # target: appends its per-operation times (bench/gdb-ops.py, timed inside one gdb session)
    port=$((port + 1))
    if [[ $1 == kemu ]]; then
        ./kemu boot --gdb="$port" >/dev/null 2>"$OUT/gdb-kemu.err" &
        for _ in $(seq 600); do grep -q waiting "$OUT/gdb-kemu.err" 2>/dev/null && break; sleep 0.1; done
    else
        qemu-system-x86_64 -kernel "$KERNEL32" -m 64M -display none -no-reboot \
            -device isa-debug-exit,iobase=0xf4,iosize=0x04 -gdb "tcp:127.0.0.1:$port" -S >/dev/null 2>&1 &
        sleep 0.5
    fi
    local pid=$!
    GDB_PORT=$port GDB_STEPS=$STEPS GDB_HITS=$HITS gdb -nx -batch -x bench/gdb-ops.py "$KERNEL" \
        > "$OUT/gdb-$1.out" 2>&1 || true
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for op in stepi hit; do
        awk -v k="${op}_ms" '$1 == k { print $2 }' "$OUT/gdb-$1.out" >> "$OUT/gdb-$1-$op.txt"
    done
    grep -q '^hit_ms' "$OUT/gdb-$1.out" || { say "the $1 gdb session failed: $(tail -3 "$OUT/gdb-$1.out")"; return 1; }
}
stats() { sort -g | awk '{ v[NR] = $1 } END { printf "%.3f %.3f\n", v[1], v[int((NR + 1) / 2)] }'; }

rm -f "$OUT"/gdb-{kemu,qemu}-{stepi,hit}.txt
for _ in $(seq "$ROUNDS"); do
    session kemu
    session qemu
done
: > "$OUT/gdb.txt"
for op in stepi hit; do
    echo "gdb_${op}_kemu_ms $(stats < "$OUT/gdb-kemu-$op.txt")" >> "$OUT/gdb.txt"
    echo "gdb_${op}_qemu_ms $(stats < "$OUT/gdb-qemu-$op.txt")" >> "$OUT/gdb.txt"
done
gdb --version | head -1 >> "$OUT/versions.txt"
cat "$OUT/gdb.txt" >&2
