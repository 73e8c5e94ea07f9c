#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (ctest). Each test has
# MV_TEST_TIMEOUT seconds (default 300); the whole suite is meant to finish in
# a few minutes on two cores. First the concurrency stress test runs under
# ThreadSanitizer (the CMake preset "tsan"), three times since a race may not
# show in every run (MV_SKIP_TSAN=1 skips it); the full suite runs last so its
# summary is the closing line.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh

if [[ "${MV_SKIP_TSAN:-0}" != 1 ]]; then
  cmake --preset tsan > /dev/null
  cmake --build --preset tsan -j "${MV_JOBS:-2}"
  ctest --preset tsan --repeat until-fail:3 --timeout "${MV_TEST_TIMEOUT:-300}"
fi

cd build
ctest --output-on-failure -j "${MV_JOBS:-2}" --timeout "${MV_TEST_TIMEOUT:-300}"
