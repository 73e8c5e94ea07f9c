#!/usr/bin/env bash
# The checked-step throughput of `check` at 1,000 live objects (both models,
# the snapshot comparison, every invariant on every step; properties/throughput.h):
#
#   scripts/check-throughput.sh [BUILD_DIR]   (default: build, a Release build)
#
# Prints two numbers (bench/README.md has the history):
# - callgrind instructions per checked step, exact and independent of the
#   machine's load: the instructions inside Conformance::run (the timed
#   part: the operation on both models, their snapshots and the invariants)
#   and in the whole process (the generator too), each as the difference of
#   two runs of MV_CHECK_STEPS and 3 x MV_CHECK_STEPS timed steps, which
#   cancels the set-up (default 5000);
# - steps/s as `check --bench-live` reports them, the best of MV_CHECK_REPS
#   runs of 100,000 steps (default 5): wall-clock, so it moves with the load
#   (the load average is printed with it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
bin=$build/memcg-verify
n1=${MV_CHECK_STEPS:-5000}
n2=$((3 * n1))
reps=${MV_CHECK_REPS:-5}
[ -x "$bin" ] || { echo "$bin: not built (cmake --build $build --target memcg-verify)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bench() { "$bin" check --bench-live --bench-targets 1000 --bench-steps "$1" --seed 1 --json 2>/dev/null; }
ir() { grep -E '^(summary|totals):' "$1" | head -1 | awk '{print $2}'; }
for n in $n1 $n2; do
  valgrind --tool=callgrind --callgrind-out-file="$tmp/whole.$n" \
    "$bin" check --bench-live --bench-targets 1000 --bench-steps "$n" --seed 1 --json > /dev/null 2>&1
  valgrind --tool=callgrind --toggle-collect='mv::properties::Conformance::run(*' \
    --callgrind-out-file="$tmp/timed.$n" \
    "$bin" check --bench-live --bench-targets 1000 --bench-steps "$n" --seed 1 --json > /dev/null 2>&1
done
per_step() { echo $(( ($(ir "$tmp/$1.$n2") - $(ir "$tmp/$1.$n1")) / (n2 - n1) )); }
echo "callgrind: $(per_step timed) Ir per checked step (Conformance::run), $(per_step whole) Ir per step (whole process)"

best=0
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$reps"); do
  sps=$(bench 100000 | python3 -c 'import json, sys; print(int(json.load(sys.stdin)["bench_live"][0]["steps_per_second"]))')
  [ "$sps" -gt "$best" ] && best=$sps
done
echo "check --bench-live --bench-targets 1000 --bench-steps 100000 --seed 1: best of $reps: $best steps/s" \
  "(load average after: $(cut -d' ' -f1-3 /proc/loadavg))"
