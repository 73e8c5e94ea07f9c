#!/usr/bin/env bash
# Configures and builds everything (Release) in build/. MV_JOBS overrides the
# parallelism (default 2: the project's machines have two cores).
set -euo pipefail
cd "$(dirname "$0")/.."

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "${MV_JOBS:-2}"
