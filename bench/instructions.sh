#!/usr/bin/env bash
# Host instructions of the C reference driver, counted rather than timed, for the figures where a
# shared machine's wall-clock noise is larger than the difference being measured. `perf stat -e
# instructions` needs a hardware counter, which virtual machines often do not expose (checked
# first); valgrind's callgrind counts every instruction it executes (Ir) on any machine.
# Each figure is the count of a driver run doing 4 repetitions (the warm-up and 3) minus that of
# one doing 2, over the work of the 2 extra: start-up and file reads cancel out.
# Writes "$OUT/instructions.txt": `name count count unit` per line, and the counter used.
# Usage: bench/instructions.sh OUT DRIVER DRIVER_ARGS...
set -euo pipefail
OUT=$1 DRIVER=$2
shift 2
ARGS=("$@")
say() { echo "bench: $*" >&2; }
: > "$OUT/instructions.txt"

if perf stat -x, -e instructions true 2>&1 >/dev/null | grep -qE '^[0-9]+,'; then
    counter=perf
    total() { # figure reps: instructions of one driver run
        KEMU_BENCH_ITERATIONS=${ITERATIONS:-} perf stat -x, -e instructions:u "$DRIVER" "${ARGS[@]}" "$1" "$2" \
            2>&1 >/dev/null | awk -F, '/instructions/ { print $1 }'
    }
else
    if ! command -v valgrind >/dev/null && [[ $(id -u) == 0 ]]; then
        apt-get install -y -q valgrind >/dev/null 2>&1 || true
    fi
    command -v valgrind >/dev/null || { say "no perf counter and no valgrind; the instruction counts are skipped"; exit 0; }
    counter="valgrind --tool=callgrind ($(valgrind --version))"
    total() {
        KEMU_BENCH_ITERATIONS=${ITERATIONS:-} valgrind --tool=callgrind --callgrind-out-file=/dev/null \
            "$DRIVER" "${ARGS[@]}" "$1" "$2" 2>&1 >/dev/null | sed -n 's/.*Collected : *//p'
    }
fi

count() { # name figure iterations work-per-repetition unit
    local two four
    ITERATIONS=$3
    two=$(total "$2" 1)
    four=$(total "$2" 3)
    if [[ -z $two || -z $four ]]; then
        say "$counter gave no count for $2; its instruction figure is skipped"
        return
    fi
    printf '%s %s %s %s\n' "$1" "$(echo "($four - $two) / (2 * $4)" | bc -l | xargs printf '%.1f')" \
        "$(echo "($four - $two) / (2 * $4)" | bc -l | xargs printf '%.1f')" "$5" >> "$OUT/instructions.txt"
}
count insns_c_raw raw 200000 $((200000 * 10)) "host instructions per guest instruction"
count insns_c_hypercall hypercall 20000 20000 "host instructions per hypercall"
count insns_c_boot boot "" 1 "host instructions per boot to kmain"
echo "instruction counter: $counter" >> "$OUT/versions.txt"
cat "$OUT/instructions.txt" >&2
