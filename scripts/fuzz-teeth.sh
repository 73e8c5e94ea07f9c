#!/usr/bin/env bash
# Teeth of fuzz_ops: every catalogued mutant (memcg-verify mutants --list)
# injected into the impl in turn, fuzz_ops run from an empty corpus (no seed
# that was derived from a mutant) for at most SECONDS each; prints one row per
# mutant: found or not, seconds and executions to the finding, the finding's
# failure line, and whether its trace replays (replay --model both --mutant).
#
#   scripts/fuzz-teeth.sh [SECONDS] [MUTANT...]     (default 60 s, every mutant)
#
# MV_FUZZ_SKIP_BUILD=1 uses the binaries as they are. MV_FUZZ_TEETH_SEEDS=gen starts from the generator seeds fuzz/corpus/fuzz_ops/gen-*
# instead. Exit status: 0 when at least MV_FUZZ_TEETH_BAR (default 12) mutants
# were found (all of them when fewer are named; the canary does not count),
# 1 otherwise. The interleaving mutants are explore's (memcg-verify explore).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-60}
shift || true

if [[ ${MV_FUZZ_SKIP_BUILD:-0} != 1 ]]; then  # 1: use build-fuzz/fuzz_ops and build/memcg-verify as they are
  scripts/install-deps.sh > /dev/null
  [[ -f build-fuzz/CMakeCache.txt ]] || cmake --preset fuzz > /dev/null
  cmake --build --preset fuzz --target fuzz_ops -j "${MV_JOBS:-2}" > /dev/null
  scripts/build.sh > /dev/null  # memcg-verify, to replay the findings
fi

mutants=("$@")
if ((${#mutants[@]} == 0)); then
  # The catalog's sequentially expressible mutants of the impl (the layers
  # column says impl). The canary runs first as a sanity check of the harness
  # and is not counted; the interleaving mutants need a schedule (memcg-verify
  # explore), which a sequential op stream has not; an overlay mutant lives in
  # the reference of a profile the impl does not model, where fuzz_ops (impl
  # against reference) cannot put it.
  mapfile -t mutants < <(build/memcg-verify mutants --list | awk '
    NR > 1 && /^[a-z]/ { if (name != "") print name; name = ($2 == "interleaving" || $3 !~ /^impl/) ? "" : $1; next }
    /not expressible/ { name = "" }
    END { if (name != "") print name }')
fi
counted=0
for m in "${mutants[@]}"; do [[ $m == canary ]] || counted=$((counted + 1)); done
bar=${MV_FUZZ_TEETH_BAR:-12}
((counted < bar)) && bar=$counted
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "fuzz_ops teeth: ${#mutants[@]} mutants, at most $seconds s each, seeds: ${MV_FUZZ_TEETH_SEEDS:-none}; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-32s %-6s %8s %10s %6s %s\n' mutant found seconds execs line replayed
found=0
for m in "${mutants[@]}"; do
  dir=$work/$m
  mkdir -p "$dir/corpus" "$dir/findings"
  if [[ ${MV_FUZZ_TEETH_SEEDS:-} == gen ]]; then cp fuzz/corpus/fuzz_ops/gen-* "$dir/corpus/"; fi
  start=$(date +%s.%N)
  (cd "$dir" && MV_FUZZ_MUTANT=$m MV_FUZZ_OUT=$dir/findings nice "$root/build-fuzz/fuzz_ops" \
     -max_total_time="$seconds" -max_len=1537 -len_control=0 -timeout=10 -artifact_prefix="$dir/" \
     "$dir/corpus" > "$dir/log" 2>&1) || true
  end=$(date +%s.%N)
  trace=$(ls "$dir"/findings/*.jsonl 2>/dev/null | head -1 || true)
  if [[ -n $trace ]]; then
    [[ $m == canary ]] || found=$((found + 1))
    execs=$(grep -oE '^#[0-9]+' "$dir/log" | tail -1 | tr -d '#' || true)
    line=$(grep -oE 'fuzz_ops finding: line [0-9]+' "$dir/log" | head -1 | awk '{print $4}' || true)
    replayed=no
    code=0
    build/memcg-verify replay "$trace" --model both --mutant "$m" > /dev/null 2>&1 || code=$?
    ((code == 1)) && replayed=yes
    printf '%-32s %-6s %8.1f %10s %6s %s\n' "$m" yes "$(echo "$end - $start" | bc)" "${execs:-?}" "${line:-?}" "$replayed"
  else
    printf '%-32s %-6s %8s %10s %6s %s\n' "$m" NO "-" "-" "-" "-"
  fi
done
echo "fuzz_ops found $found of $counted catalogued mutants within $seconds s each (bar: $bar; the canary not counted)"
((found >= bar))
