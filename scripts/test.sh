#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (ctest). Each test has
# MV_TEST_TIMEOUT seconds (default 300); the whole suite is meant to finish in
# a few minutes on two cores. First the concurrency stress test runs under
# ThreadSanitizer (the CMake preset "tsan"), three times since a race may not
# show in every run (MV_SKIP_TSAN=1 skips it); with MV_FUZZ=1 both fuzz targets
# for a bounded time (scripts/fuzz.sh); the full suite
# runs last so its summary is the closing line.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh

if [[ "${MV_SKIP_TSAN:-0}" != 1 ]]; then
  cmake --preset tsan > /dev/null
  cmake --build --preset tsan -j "${MV_JOBS:-2}"
  ctest --preset tsan --repeat until-fail:3 --timeout "${MV_TEST_TIMEOUT:-300}"
fi

# Coverage-guided fuzzing for a bounded time (fuzz/README.md): the trace
# reader and replay on arbitrary bytes (fuzz_trace), and the fast path in
# lock-step with the reference (fuzz_ops), 20 s each, with MV_FUZZ=1. Off by
# default: the clang/ASan build of the fuzz preset costs about five minutes of
# the CI budget on two cores. Their corpora replay in ctest either way
# (fuzz_trace_corpus, fuzz_ops_corpus); the long runs are scripts/fuzz.sh
# TARGET 600.
if [[ "${MV_FUZZ:-0}" == 1 ]]; then
  scripts/fuzz.sh fuzz_trace "${MV_FUZZ_TRACE_SECONDS:-20}"
  scripts/fuzz.sh fuzz_ops "${MV_FUZZ_OPS_SECONDS:-20}"
fi

# A short exploration of interleavings of the correct impl (the explore
# tests in ctest cover the mutants and the bars).
build/memcg-verify explore --strategy pct --seed 1 --schedules 2000 --out build/explore

cd build
ctest --output-on-failure -j "${MV_JOBS:-2}" --timeout "${MV_TEST_TIMEOUT:-300}"
