#!/usr/bin/env bash
# Draws the README's pictures (docs/SIMULATE.md): the seed 000 workload over
# 7 simulated days, the seed 004 loop on every modeled profile, and the seed 003
# caches on the profiles with per-memcg caches, as SVG
# with gnuplot (installed here if missing), with the CSV beside each.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --plot
[[ -x build/memcg-verify ]] || scripts/build.sh

build/memcg-verify simulate --days 7 --csv docs/simulate-seed000.csv --svg docs/simulate-seed000.svg
build/memcg-verify simulate --workload seed004 --iterations 500 \
  --csv docs/simulate-seed004.csv --svg docs/simulate-seed004.svg
build/memcg-verify simulate --workload seed003 --iterations 500 --profile v5.2,v5.3,davydov-2014 \
  --csv docs/simulate-seed003.csv --svg docs/simulate-seed003.svg
