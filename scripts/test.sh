#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (ctest). Each test has
# MV_TEST_TIMEOUT seconds (default 300); the whole suite is meant to finish in
# a few minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh

cd build
ctest --output-on-failure -j "${MV_JOBS:-2}" --timeout "${MV_TEST_TIMEOUT:-300}"
