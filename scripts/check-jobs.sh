#!/usr/bin/env bash
# How `check --jobs 2` scales against `--jobs 1` (issue 10 asks for >= 1.8x):
#
#   scripts/check-jobs.sh [BUILD_DIR]   (default: build, a Release build)
#
# Runs `check --seed 1 --runs MV_JOBS_RUNS --steps 200 --json` (default 40,000
# runs, about 2M steps) with --jobs 1 and --jobs 2 in turn, MV_JOBS_REPS times
# (default 4), so that both see the same moments of a shared machine's load.
# Prints each run's steps/s (wall-clock, as check reports it), its CPU time per
# step and its CPU/wall ratio (how many cores it kept busy), then the best of
# each and their ratio. Checks that both reports are the same apart from the
# timing fields and `jobs` (the report does not depend on N): exit 1 if not.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
bin=$build/memcg-verify
runs=${MV_JOBS_RUNS:-40000}
reps=${MV_JOBS_REPS:-4}
[ -x "$bin" ] || { echo "$bin: not built (cmake --build $build --target memcg-verify)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "check --seed 1 --runs $runs --steps 200 --jobs 1|2, $reps rounds; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq "$reps"); do
  for jobs in 1 2; do
    /usr/bin/time -f "%U %S %e" -o "$tmp/time.$jobs" \
      "$bin" check --seed 1 --runs "$runs" --steps 200 --jobs "$jobs" --json > "$tmp/report.$jobs.$rep" 2> /dev/null
    python3 - "$tmp" "$jobs" "$rep" <<'PY'
import json, sys
tmp, jobs, rep = sys.argv[1:]
report = json.load(open(f"{tmp}/report.{jobs}.{rep}"))
user, system, wall = map(float, open(f"{tmp}/time.{jobs}").read().split()[-3:])
cpu = user + system
print(f"  --jobs {jobs}: {report['steps']} steps, {report['steps_per_second']:,.0f} steps/s, "
      f"{cpu / report['steps'] * 1e6:.2f} us CPU/step, CPU/wall {cpu / wall:.2f}")
PY
  done
done
python3 - "$tmp" "$reps" <<'PY'
import json, sys
tmp, reps = sys.argv[1], int(sys.argv[2])
timing = {"seconds", "wall_seconds", "steps_per_second", "jobs"}
reports = {j: [json.load(open(f"{tmp}/report.{j}.{r}")) for r in range(1, reps + 1)] for j in (1, 2)}
best = {j: max(r["steps_per_second"] for r in reports[j]) for j in (1, 2)}
print(f"best of {reps}: --jobs 1 {best[1]:,.0f} steps/s, --jobs 2 {best[2]:,.0f} steps/s: "
      f"{best[2] / best[1]:.2f}x")
strip = lambda r: {k: v for k, v in r.items() if k not in timing}
same = all(strip(r) == strip(reports[1][0]) for j in (1, 2) for r in reports[j])
print("reports apart from timing and jobs: " + ("the same" if same else "DIFFERENT"))
sys.exit(0 if same else 1)
PY
