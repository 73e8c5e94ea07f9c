#!/usr/bin/env bash
# The figures of issue 9's bars, measured (not part of test.sh or verify.sh):
#   1. schedules until the first kill, per interleaving mutant and per
#      strategy (random, pct at depths 2 and 3, dfs), budget 10,000, seed 1;
#   2. the correct impl under the budgets of the bar: 100,000 random and
#      100,000 PCT schedules (the built-in harnesses and 20 random ones), and
#      the whole bounded search (2 preemptions) of every built-in harness.
# Each row prints the command that produced it. Usage:
#   scripts/explore-table.sh [BIN] [--quick]   (--quick: budgets / 100)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/memcg-verify}
scale=1
[[ "${2:-}" == --quick ]] && scale=100
out=build/explore-table
mkdir -p "$out"

field() {  # field JSON NAME: one top-level field of explore --json
  python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("-" if v is None else v)' "$1" "$2"
}

echo "## Schedules to the first kill (budget 10000, seed 1)"
echo
echo "| mutant | strategy | schedules to kill | seconds | command |"
echo "| --- | --- | --- | --- | --- |"
for mutant in $("$bin" mutants --list | awk '$2 == "interleaving" {print $1}'); do
  for strategy in "random" "pct --depth 2" "pct --depth 3" "dfs"; do
    # shellcheck disable=SC2086
    cmd="$bin explore --strategy $strategy --seed 1 --schedules 10000 --mutant $mutant --no-shrink --json --out $out"
    json=$($cmd 2>/dev/null) || true
    kill=$(field "$json" schedule_of_failure)
    [[ "$kill" == "-" ]] && kill="not found in 10000"
    printf '| %s | %s | %s | %.2f | `%s` |\n' "$mutant" "$strategy" "$kill" "$(field "$json" seconds)" "$cmd"
  done
done

echo
echo "## The correct impl"
echo
echo "| run | schedules | seconds | schedules/s | linearized | verdict | command |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
runs=("random $((100000 / scale)) --random-harnesses 20"
      "pct $((100000 / scale)) --random-harnesses 20"
      "dfs 10000000")
for run in "${runs[@]}"; do
  read -r strategy budget rest <<<"$run"
  # shellcheck disable=SC2086
  cmd="$bin explore --strategy $strategy --seed 1 --schedules $budget $rest --json --out $out"
  code=0
  json=$(nice $cmd 2>/dev/null) || code=$?
  case $code in 0) verdict="OK (exit 0)" ;; 1) verdict="FAILED (exit 1)" ;; *) verdict="exit $code" ;; esac
  [[ "$strategy" == dfs ]] && verdict="$verdict, search complete: $(field "$json" search_complete)"
  printf '| %s | %s | %.1f | %.0f | %s | %s | `%s` |\n' "$strategy" "$(field "$json" schedules)" \
    "$(field "$json" seconds)" "$(field "$json" schedules_per_second)" \
    "$(field "$json" linearizability_checked)" "$verdict" "$cmd"
done
