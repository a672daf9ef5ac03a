#!/usr/bin/env bash
# make fuzz: the long fuzzing campaign (minutes), seedable. Each part is one JVM:
#   1. random and privilege-seeded guest programs, each followed by a whole-machine exactness check
#   2. random hypercall sequences with adversarial arguments, every metadata checker after each
#   3. parallel machines running random programs at once, each checked for cross-talk
#   4. the model-based allocator, page-table and VMA tests with many more tries
# Environment (or make variables): SEED (default: random, printed), PROGRAMS (random programs, default
# 20000), HYPERCALLS (random hypercall sequences of 1-60 calls, default 20000), PARALLEL (programs per
# machine on 2 machines, default 2000), MODEL_TRIES (default 2000), RAM (MiB of the exactness machines,
# default 16: comparing all of RAM is most of a program's cost), PARTS (default: programs hypercalls parallel
# models). A failure prints jqwik's seed and the
# shrunk reproduction, writes it into src/test/resources/fuzz-corpus/, and makes the script exit 1.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SEED=${SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
PROGRAMS=${PROGRAMS:-20000}
HYPERCALLS=${HYPERCALLS:-20000}
PARALLEL=${PARALLEL:-2000}
MODEL_TRIES=${MODEL_TRIES:-2000}
RAM=${RAM:-16}
PARTS=${PARTS:-programs hypercalls parallel models}
BATCH=100 # programs per jqwik try: shrinking a failing try stays quick
for name in SEED PROGRAMS HYPERCALLS PARALLEL MODEL_TRIES RAM; do
    [[ ${!name} =~ ^[0-9]+$ ]] || { echo "fuzz: $name=${!name} is not a whole number (e.g. make fuzz SEED=123 PROGRAMS=5000)" >&2; exit 2; }
done
CORPUS="$ROOT/src/test/resources/fuzz-corpus"
LOGS="$ROOT/target/fuzz"
mkdir -p "$LOGS"
echo "fuzz: seed $SEED (repeat with: make fuzz SEED=$SEED PROGRAMS=$PROGRAMS HYPERCALLS=$HYPERCALLS PARALLEL=$PARALLEL MODEL_TRIES=$MODEL_TRIES RAM=$RAM)"
failed=()
part() { # name, tests, extra Maven arguments...
    local name=$1 tests=$2; shift 2
    [[ " $PARTS " == *" $name "* ]] || return 0
    local started=$SECONDS
    echo "fuzz: $name ..."
    if "$ROOT/scripts/mvn.sh" test -Dtest="$tests" -Dsurefire.failIfNoSpecifiedTests=false -Dkemu.fuzz.seed="$SEED" \
            -Dkemu.fuzz.corpus="$CORPUS" "$@" > "$LOGS/$name.log" 2>&1; then
        echo "fuzz: $name passed in $((SECONDS - started)) s: $(grep -h '^kemu.fuzz:' "$LOGS/$name.log" | sed 's/^kemu.fuzz: //' | paste -sd ';' -)"
    else
        failed+=("$name")
        echo "fuzz: $name FAILED after $((SECONDS - started)) s (full log: $LOGS/$name.log); the shrunk reproduction:" >&2
        # jqwik's report: the seed, then the original and the shrunk sample, and the assertion message.
        grep -h -A40 -E 'Shrunk Sample|seed = |AssertionFailed|AssertionError' "$LOGS/$name.log" | head -120 >&2
        grep -h 'reproduction written to' "$LOGS/$name.log" >&2
    fi
}
part programs 'RestoreExactnessFuzzTest#randomProgram*' -Dkemu.fuzz.tries=$(( (PROGRAMS + BATCH - 1) / BATCH )) \
    -Dkemu.fuzz.programs=$BATCH -Dkemu.fuzz.ram="$RAM"
part hypercalls 'HypercallFuzzTest' -Dkemu.fuzz.tries="$HYPERCALLS"
part parallel 'ParallelExactnessFuzzTest' -Dkemu.fuzz.tries=$(( (PARALLEL + BATCH - 1) / BATCH )) \
    -Dkemu.fuzz.programs=$BATCH -Dkemu.fuzz.ram="$RAM"
part models 'BuddyAllocatorTest,KmallocTest,PageTablesTest,VmallocTest,VirtualMemoryModelTest' \
    -Djqwik.tries.default="$MODEL_TRIES" -Dkemu.fuzz.tries="$MODEL_TRIES"
if (( ${#failed[@]} )); then
    echo "fuzz: FAILED: ${failed[*]} (seed $SEED); new reproductions in $CORPUS are replayed by make test" >&2
    exit 1
fi
echo "fuzz: all parts passed (seed $SEED)"
