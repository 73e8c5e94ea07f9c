#!/usr/bin/env bash
# Line and branch coverage of impl/ and reference/ (gcc --coverage, gcov's JSON
# read by scripts/coverage_report.py, gcovr for the summary and HTML; in
# build-coverage/, the CMake preset "coverage"), measured twice:
#   1. under the test command's suite (ctest);
#   2. under a one-minute conformance campaign (memcg-verify check, 100 runs
#      from seed 1, 2, ..., each seed on the next profile of `memcg-verify
#      profiles`, until MV_COVERAGE_SECONDS, default 60, are up).
# Prints each summary, then the branches neither run took, file:line by file
# (build-coverage/coverage/uncovered-branches.txt), and the HTML report path.
#
#   scripts/coverage.sh            MV_COVERAGE_SKIP_TESTS=1: the campaign only
#
# Exit status: 0 when both bars hold on the union of the two runs (line >= 95%,
# branch >= 85%: MV_COVERAGE_LINE_BAR, MV_COVERAGE_BRANCH_BAR), 3 when coverage
# is below a bar (incomplete coverage is not a failure of the subject), 2 when
# the build or the tools fail.
#
# docs/COVERAGE.md: how this measures, the last figures, and why each line
# with a branch never taken is left (or which test now takes it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
line_bar=${MV_COVERAGE_LINE_BAR:-95}
branch_bar=${MV_COVERAGE_BRANCH_BAR:-85}
seconds=${MV_COVERAGE_SECONDS:-60}

scripts/install-deps.sh > /dev/null
build=$root/build-coverage
cmake --preset coverage > /dev/null || exit 2
cmake --build --preset coverage -j "${MV_JOBS:-2}" > /dev/null || exit 2
out=$build/coverage
rm -rf "$out"
mkdir -p "$out"

# What counts (scripts/coverage_report.py, over gcov's JSON of every object):
# the lines of impl/ and reference/, and their decisions: the branches of a
# line except a call's two ways out when it may throw (the exception edge and
# the normal return), and none on a line of braces only. A line compiled by
# several objects (the impl's two builds, a header's includers) is one line.
# The preset counts with -fprofile-update=atomic (the impl runs threads: plain
# counter updates race). The forked children of memcg-verify write their
# counters before _exit (MV_COVERAGE, spec/child_exit.h).
zero() { find "$build" -name '*.gcda' -delete; }
summary() {  # NAME: the report of what ran since zero, kept as JSON for the union
  python3 "$root/scripts/coverage_report.py" "$root" "$build" "$out/$1.json" impl reference || exit 2
  gcovr -r "$root" --add-tracefile "$out/$1.json" --print-summary -o /dev/null | sed "s/^/  $1: /"
}

if [[ ${MV_COVERAGE_SKIP_TESTS:-0} != 1 ]]; then
  echo "== coverage under the test suite (ctest, build-coverage)"
  zero
  (cd "$build" && ctest -j "${MV_JOBS:-2}" --timeout 900 -E 'Proofs|proofs|layering_probe' > "$out/ctest.log" 2>&1) ||
    echo "  (some tests failed: see $out/ctest.log; coverage is still reported)"
  summary tests
fi

echo "== coverage under a $seconds s conformance campaign (memcg-verify check)"
zero
# Every profile in turn (`memcg-verify profiles`): reference/kmem_cache.cc runs
# only on the cache designs (v5.2, v5.3, davydov-2014) and the impl's v5.10 and
# v6.16 paths only on theirs; one run of 500 took ~20 s at -O0, so 100 runs per
# seed let a minute reach every profile at least once.
mapfile -t profiles < <("$build/memcg-verify" profiles | awk '{print $1}')
((${#profiles[@]} > 0)) || exit 2
start=$SECONDS
seed=1
while ((SECONDS - start < seconds)); do
  profile=${profiles[$(((seed - 1) % ${#profiles[@]}))]}
  "$build/memcg-verify" check --seed "$seed" --runs 100 --steps 200 --profile "$profile" > /dev/null || true
  seed=$((seed + 1))
done
echo "  campaign: seeds 1..$((seed - 1)), 100 runs of up to 201 steps each, profiles in turn: ${profiles[*]}"
summary campaign
# A campaign that ran but left no counters (a child that ended without
# writing them) is a broken measurement, not low coverage.
campaign_lines=$(gcovr -r "$root" --add-tracefile "$out/campaign.json" --print-summary -o /dev/null |
                 grep -E '^lines:' | grep -oE '[0-9.]+%' | tr -d '%')
if ! awk -v l="$campaign_lines" 'BEGIN { exit !(l >= 50) }'; then
  echo "coverage: the campaign left counters for $campaign_lines% of the lines: lost (a child that exits without writing them?)" >&2
  exit 2
fi

echo "== both (union)"
jsons=()
for j in "$out"/tests.json "$out"/campaign.json; do [[ -f $j ]] && jsons+=(--add-tracefile "$j"); done
gcovr -r "$root" "${jsons[@]}" --print-summary --html-details "$out/index.html" -o "$out/index.html" |
  tee "$out/summary.txt" | sed 's/^/  /'
gcovr -r "$root" "${jsons[@]}" --json "$out/union.json" > /dev/null
python3 - "$out/union.json" "$out/uncovered-branches.txt" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
rows = []
for f in sorted(data["files"], key=lambda f: f["file"]):
    for line in f["lines"]:
        missed = [b for b in line.get("branches", []) if b["count"] == 0]
        if missed and not line.get("gcovr/noncode"):
            rows.append(f'{f["file"]}:{line["line_number"]}: {len(missed)} of {len(line["branches"])} branches never taken (line run {line["count"]} times)')
open(sys.argv[2], "w").write("\n".join(rows) + "\n")
print(f"  uncovered branches: {len(rows)} lines, listed in {sys.argv[2]}")
PY
echo "  HTML: $out/index.html"

pct() { grep -E "^$1:" "$out/summary.txt" | grep -oE '[0-9.]+%' | head -1 | tr -d '%'; }
line=$(pct lines)
branch=$(pct branches)
if awk -v l="$line" -v b="$branch" -v lb="$line_bar" -v bb="$branch_bar" 'BEGIN { exit !(l >= lb && b >= bb) }'; then
  echo "coverage: lines $line% >= $line_bar%, branches $branch% >= $branch_bar%"
else
  echo "coverage: BELOW THE BAR: lines $line% (bar $line_bar%), branches $branch% (bar $branch_bar%)"
  exit 3
fi
