#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer (fuzz/README.md).
#
#   scripts/fuzz.sh TARGET [SECONDS] [JOBS]
#
# TARGET is fuzz_trace (arbitrary bytes as a trace, replayed --model both) or
# fuzz_ops (bytes decoded into operations on the reference and the impl in
# lock-step, every invariant the oracle). Builds the target with the CMake
# preset "fuzz" (clang 14, -fsanitize=fuzzer,address,undefined, in
# build-fuzz/), runs JOBS fuzzing jobs in parallel (-jobs/-workers, default 1)
# for SECONDS each (default 60) from the seed corpus fuzz/corpus/TARGET plus
# the working corpus build-fuzz/corpus/TARGET, then merges what they found
# into the working corpus (-merge=1: only inputs that add coverage).
# MV_FUZZ_UPDATE_SEEDS=1 merges into fuzz/corpus/TARGET instead (to commit).
# MV_FUZZ_MUTANT=NAME (fuzz_ops) injects a catalogued mutant into the impl.
#
# Exit status: 0 nothing found; 1 a finding (a crash, a leak, a timeout or an
# out-of-memory input), printed with how to reproduce it; 2 usage.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

target=${1:-}
seconds=${2:-60}
jobs=${3:-1}
case $target in
  fuzz_trace|trace) target=fuzz_trace; max_len=8192 ;;
  fuzz_ops|ops) target=fuzz_ops; max_len=$((1 + 6 * 256)) ;;
  *) echo "usage: scripts/fuzz.sh fuzz_trace|fuzz_ops [SECONDS] [JOBS]" >&2; exit 2 ;;
esac
[[ $seconds =~ ^[0-9]+$ && $jobs =~ ^[1-9][0-9]*$ ]] ||
  { echo "fuzz.sh: SECONDS and JOBS must be integers (JOBS >= 1)" >&2; exit 2; }

scripts/install-deps.sh > /dev/null
build=$root/build-fuzz
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake --preset fuzz > /dev/null
fi
cmake --build --preset fuzz --target "$target" -j "${MV_JOBS:-2}" > /dev/null

work=$build/corpus/$target
seeds=$root/fuzz/corpus/$target
run=$build/runs/$target-$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$work" "$run/artifacts" "$run/findings"
[[ $target == fuzz_trace ]] && cp -n "$root"/scenarios/*.jsonl "$work"/ 2>/dev/null || true

flags=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" -len_control=0
       -artifact_prefix="$run/artifacts/" -print_final_stats=1)
[[ $target == fuzz_trace ]] && flags+=(-dict="$root/fuzz/trace.dict")
echo "fuzz: $target, $jobs job(s) x $seconds s${MV_FUZZ_MUTANT:+, mutant $MV_FUZZ_MUTANT}; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "fuzz: logs and artifacts in $run"
code=0
(
  cd "$run"
  export MV_FUZZ_OUT=$run/findings
  if ((jobs > 1)); then
    "$build/$target" "${flags[@]}" -jobs="$jobs" -workers="$jobs" "$work" "$seeds"
  else
    "$build/$target" "${flags[@]}" "$work" "$seeds" > "$run/fuzz-0.log" 2>&1
  fi
) || code=$?
for log in "$run"/fuzz-*.log; do
  grep -hE '^(stat::|#[0-9]+.*DONE)' "$log" 2>/dev/null | tail -n 8 | sed "s|^|  $(basename "$log"): |" || true
done

# Merge: keep only inputs that add coverage (a crashing input is not merged).
if [[ ${MV_FUZZ_UPDATE_SEEDS:-0} == 1 ]]; then into=$seeds; else into=$work; fi
merged=$run/merged
mkdir -p "$merged"
(cd "$run" && "$build/$target" -merge=1 -max_len="$max_len" -timeout=10 "$merged" "$work" "$seeds" > "$run/merge.log" 2>&1) || true
if [[ -n $(ls -A "$merged") ]]; then
  if [[ $into == "$seeds" ]]; then
    cp -n "$merged"/* "$seeds"/ 2>/dev/null || true
  else
    rm -rf "$work" && mv "$merged" "$work"
  fi
fi
echo "fuzz: corpus $(ls "$into" | wc -l) inputs in $into"

findings=$(ls "$run/artifacts" 2>/dev/null | wc -l)
if ((findings > 0)) || grep -qsE '^==[0-9]+==ERROR|^SUMMARY: ' "$run"/fuzz-*.log; then
  echo "fuzz: FOUND something in $target (fuzzer exit $code):"
  for a in "$run"/artifacts/*; do
    [[ -e $a ]] || continue
    echo "  $a   reproduce: $build/$target $a"
  done
  for t in "$run"/findings/*.jsonl; do
    [[ -e $t ]] || continue
    echo "  trace $t   replay: build/memcg-verify replay $t --model both${MV_FUZZ_MUTANT:+ --mutant $MV_FUZZ_MUTANT}"
  done
  grep -hE 'finding|ERROR|SUMMARY' "$run"/fuzz-*.log | head -n 20 | sed 's/^/  /'
  exit 1
fi
if ((code != 0)); then
  echo "fuzz: the fuzzer exited $code without a finding: see $run"
  exit 1
fi
echo "fuzz: nothing found"
