#!/usr/bin/env bash
# The gdb figures of `make bench`: kemu's stub against `qemu-system-x86_64 -s -S`, the same gdb and
# the same kernel, interleaved (kemu, QEMU, kemu, QEMU, ...) so that drift lands on both sides.
# Each figure is the time of a session doing N operations minus that of the same session doing
# none, divided by N. Writes "$OUT/gdb.txt": `name min median` per line (ms).
# Usage: bench/gdb.sh OUT KERNEL_ELF KERNEL_ELF32
set -euo pipefail
OUT=$1 KERNEL=$2 KERNEL32=$3
ROUNDS=${GDB_ROUNDS:-5} STEPS=${GDB_STEPS:-300} HITS=${GDB_HITS:-12}
say() { echo "bench: $*" >&2; }
command -v gdb >/dev/null || { say "gdb is not installed; the gdb figures are skipped"; exit 0; }
command -v qemu-system-x86_64 >/dev/null || { say "QEMU is not installed; the gdb figures are skipped"; exit 0; }

# A gdb session: break at kmain, then COUNT times the operation OP.
script() { # port op count
    printf 'set pagination off\ntarget remote 127.0.0.1:%s\nbreak kmain\ncontinue\n' "$1"
    [[ $2 == hit ]] && printf 'break say\n'
    printf 'set $i = 0\nwhile $i < %d\n%s\nset $i = $i + 1\nend\nkill\n' "$3" "$([[ $2 == hit ]] && echo continue || echo stepi)"
}
seconds() { local s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; echo "$(date +%s.%N) - $s" | bc -l; }
port=14000
session() { # target op count
    port=$((port + 1))
    script "$port" "$2" "$3" > "$OUT/gdb-session.gdb"
    if [[ $1 == kemu ]]; then
        ./kemu boot --gdb="$port" >/dev/null 2>"$OUT/gdb-kemu.err" &
        for _ in $(seq 600); do grep -q waiting "$OUT/gdb-kemu.err" 2>/dev/null && break; sleep 0.1; done
    else
        qemu-system-x86_64 -kernel "$KERNEL32" -m 64M -display none -no-reboot \
            -device isa-debug-exit,iobase=0xf4,iosize=0x04 -gdb "tcp:127.0.0.1:$port" -S >/dev/null 2>&1 &
        sleep 0.5
    fi
    local pid=$!
    seconds gdb -nx -batch -x "$OUT/gdb-session.gdb" "$KERNEL"
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
per_op() { # target op count: ms per operation
    local with without
    with=$(session "$1" "$2" "$3")
    without=$(session "$1" "$2" 0)
    echo "($with - $without) * 1000 / $3" | bc -l
}
stats() { sort -g | awk '{ v[NR] = $1 } END { printf "%.3f %.3f\n", v[1], v[int((NR + 1) / 2)] }'; }

: > "$OUT/gdb.txt"
for op in stepi hit; do
    count=$([[ $op == stepi ]] && echo "$STEPS" || echo "$HITS")
    : > "$OUT/gdb-kemu-$op.txt"; : > "$OUT/gdb-qemu-$op.txt"
    for _ in $(seq "$ROUNDS"); do
        per_op kemu "$op" "$count" >> "$OUT/gdb-kemu-$op.txt"
        per_op qemu "$op" "$count" >> "$OUT/gdb-qemu-$op.txt"
    done
    echo "gdb_${op}_kemu_ms $(stats < "$OUT/gdb-kemu-$op.txt")" >> "$OUT/gdb.txt"
    echo "gdb_${op}_qemu_ms $(stats < "$OUT/gdb-qemu-$op.txt")" >> "$OUT/gdb.txt"
done
gdb --version | head -1 >> "$OUT/versions.txt"
cat "$OUT/gdb.txt" >&2
