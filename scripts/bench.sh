#!/usr/bin/env bash
# Benchmarks of the impl against the reference, the callgrind instruction
# count of the byte-stock hit path, and the cost of `replay` over trace length,
# sibling count, hierarchy depth and live objects (bench/replay_bench.cc).
#
#   scripts/bench.sh [BUILD_DIR]      (default: build-impl, RelWithDebInfo)
#
# Environment: MV_BENCH_REPS (repetitions, default 7), MV_BENCH_MIN_TIME
# (seconds per repetition, default 0.3), MV_BENCH_ONLY (kmem or replay: just
# that part). Prints one table of medians over the
# repetitions: ns per charge+uncharge pair (wall time divided by the pairs of
# all threads, i.e. 1/throughput), pairs/s over all threads, the impl/ref
# throughput ratio, and the impl's 2-thread over 1-thread throughput. The
# "impl cpu ns" column is CPU time per pair (Google Benchmark's cpu_time): on a
# loaded machine, where the process does not get two whole CPUs and wall-clock
# scaling cannot show, an unchanged CPU cost per pair from 1 to 2 threads
# ("cpu ns 1thr/2thr" near 1.00) still shows that the threads do not contend. The numbers depend on the machine
# and its load: the load average is printed with them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-impl}
reps=${MV_BENCH_REPS:-7}
min_time=${MV_BENCH_MIN_TIME:-0.3}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build "$build" --target kmem_bench hit_path_callgrind replay_bench -j2 > /dev/null
only=${MV_BENCH_ONLY:-}

json=$(mktemp)
trap 'rm -f "$json" "$json".cg* "$json".replay' EXIT
echo "machine: $(nproc) CPUs, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$only" != replay ]; then
"$build/kmem_bench" --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
  --benchmark_min_time="$min_time" --benchmark_format=json > "$json"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$json" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
med = {}
want = "median" if any(r.get("aggregate_name") == "median" for r in runs) else None
for r in runs:
    if r.get("aggregate_name") != want:  # one repetition: the runs themselves
        continue
    name = r["run_name"]  # BM_impl_hit/diff:0/profile:0/real_time/threads:1
    parts = name.split("/")
    _, model, path = parts[0].split("_")
    diff = parts[1].split(":")[1]
    profile = parts[2].split(":")[1]
    threads = int(parts[-1].split(":")[1])
    med[(model, path, diff, profile, threads)] = (r["real_time"], r["items_per_second"], r["cpu_time"])

labels = {"hit": "byte-stock hit", "miss": "page-stock hit", "pcnt": "page_counter"}
profiles = {"0": "v6.6", "1": "v5.10", "2": "v6.16"}  # bench/kmem_bench.cc kProfiles
print()
print(f"{'path':<15} {'profile':<7} {'memcgs':<6} {'thr':>3} | {'impl ns/pair':>12} {'impl Mpairs/s':>13} "
      f"{'impl cpu ns':>11} | {'ref ns/pair':>11} {'ref Mpairs/s':>12} | {'impl/ref':>8} | "
      f"{'impl 2thr/1thr':>14} {'cpu ns 1thr/2thr':>16}")
print("-" * 152)
for path in ("hit", "miss", "pcnt"):
    for profile in profiles:
        for diff in ("0", "1"):
            for threads in (1, 2):
                i = med.get(("impl", path, diff, profile, threads))
                r = med.get(("ref", path, diff, profile, threads))
                if not i or not r:
                    continue
                i_tput, r_tput = i[1], r[1]
                scale = cpu_eff = ""
                if threads == 2 and ("impl", path, diff, profile, 1) in med:
                    one = med[("impl", path, diff, profile, 1)]
                    scale = f"{i_tput / one[1]:.2f}x"
                    cpu_eff = f"{one[2] / i[2]:.2f}"
                print(f"{labels[path]:<15} {profiles[profile]:<7} {'same' if diff == '0' else 'diff':<6} {threads:>3} | "
                      f"{i[0]:>12.1f} {i_tput / 1e6:>13.1f} {i[2]:>11.1f} | {r[0]:>11.1f} "
                      f"{r_tput / 1e6:>12.2f} | {r_tput and i_tput / r_tput:>7.1f}x | {scale:>14} "
                      f"{cpu_eff:>16}")
PY

n1=100000
n2=300000
ir() { grep -E '^(summary|totals):' "$1" | head -1 | awk '{print $2}'; }
echo
for profile in v6.6 v5.10 v6.16; do
  for n in $n1 $n2; do
    valgrind --tool=callgrind --callgrind-out-file="$json.cg$n" "$build/hit_path_callgrind" "$n" \
      64 "$profile" > /dev/null 2>&1
  done
  ir1=$(ir "$json.cg$n1")
  ir2=$(ir "$json.cg$n2")
  echo "callgrind $profile: Ir($n1 pairs) = $ir1, Ir($n2 pairs) = $ir2," \
    "instructions per byte-stock hit pair = $(( (ir2 - ir1) / (n2 - n1) ))" \
    "(exact: $(python3 -c "print(($ir2 - $ir1) / ($n2 - $n1))"))"
done
fi

[ "$only" = kmem ] && exit 0
# replay: the median time of one replay and per trace line, by shape and size.
# Near-linear cost: us/line stays flat as N grows (the last column: us/line at
# N over us/line at the smallest N of the shape).
"$build/replay_bench" --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
  --benchmark_min_time="$min_time" --benchmark_format=json > "$json.replay"
echo
echo "replay (reference model, every step checked), load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$json.replay" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
want = "median" if any(r.get("aggregate_name") == "median" for r in runs) else None
rows = [r for r in runs if r.get("aggregate_name") == want]
print(f"{'shape':<9} {'N':>6} {'lines':>6} | {'ms/replay':>9} {'cpu ms':>8} | {'us/line':>7} {'vs smallest N':>13}")
print("-" * 68)
first = {}
for r in rows:
    shape, n = r["run_name"].split("/")
    us = r["us_per_line"]
    base = first.setdefault(shape, us)
    print(f"{shape:<9} {int(n):>6} {int(r['lines']):>6} | {r['real_time']:>9.1f} {r['cpu_time']:>8.1f} | "
          f"{us:>7.2f} {us / base:>12.2f}x")
PY
