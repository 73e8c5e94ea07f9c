#!/usr/bin/env bash
# Runs `memcg-verify check` with its default options on consecutive seeds and
# counts the exit statuses: with the defaults every seed must exit 0 (no
# failure, every coverage mark hit). Prints, per coverage mark, the fewest
# hits any seed had, and the slowest campaign.
#
#   scripts/check-seeds.sh [FIRST_SEED [COUNT [BINARY]]]   (default: 1 100 build/memcg-verify)
#
# Any extra check options go in MV_CHECK_ARGS (e.g. "--runs 300"). Exit 0
# when every seed exited 0, else 1.
set -euo pipefail
cd "$(dirname "$0")/.."
first=${1:-1}
count=${2:-100}
bin=${3:-build/memcg-verify}
read -r -a extra <<< "${MV_CHECK_ARGS:-}"

declare -A statuses=()
declare -A fewest=()
slowest=0
failed_seeds=()
for ((seed = first; seed < first + count; seed++)); do
  status=0
  summary=$("$bin" check --seed "$seed" --json "${extra[@]}" 2>/dev/null) || status=$?
  statuses[$status]=$((${statuses[$status]:-0} + 1))
  ((status == 0)) || failed_seeds+=("$seed:$status")
  # "marks":{"name":N,...} and "seconds":S from the one-line summary.
  marks=$(grep -o '"marks":{[^}]*}' <<< "$summary" | sed 's/"marks":{//; s/}//; s/"//g' | tr ',' '\n')
  while IFS=: read -r name hits; do
    [[ -n "$name" ]] || continue
    if [[ -z "${fewest[$name]:-}" || "$hits" -lt "${fewest[$name]}" ]]; then fewest[$name]=$hits; fi
  done <<< "$marks"
  seconds=$(grep -o '"seconds":[0-9.e+-]*' <<< "$summary" | head -1 | cut -d: -f2)
  slowest=$(awk -v a="$slowest" -v b="${seconds:-0}" 'BEGIN { print (b > a ? b : a) }')
done

echo "memcg-verify check --seed S --json ${extra[*]:-} for S = $first .. $((first + count - 1)):"
for status in "${!statuses[@]}"; do
  echo "  exit $status: ${statuses[$status]} seeds"
done
((${#failed_seeds[@]} == 0)) || echo "  seeds not exiting 0 (seed:exit): ${failed_seeds[*]}"
echo "  fewest hits of each coverage mark over those seeds:"
for name in $(printf '%s\n' "${!fewest[@]}" | sort); do
  printf '    %-28s %s\n' "$name" "${fewest[$name]}"
done
echo "  slowest campaign: ${slowest} s"
((${#failed_seeds[@]} == 0))
