#!/usr/bin/env bash
# Installs the Debian (bookworm) packages memcg-verify needs, only those that
# are missing: safe to run again and again. Uses apt-get directly as root,
# else through sudo. `--plot` adds gnuplot, which only `simulate --svg`
# (scripts/plot.sh) needs.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  googletest libgtest-dev libgmock-dev librapidcheck-dev
  libz3-dev libfmt-dev libcli11-dev nlohmann-json3-dev libbenchmark-dev
  valgrind
  clang-14 libclang-rt-14-dev llvm-14 zip  # libFuzzer, ASan/UBSan runtimes, llvm-symbolizer (fuzz/)
  gcovr                                    # scripts/coverage.sh
  linux-source-6.1 xz-utils               # the default tree of the kernel model (kernel/, docs/KERNEL-CHANGE.md)
)

if [[ "${1:-}" == --plot ]]; then
  packages+=(gnuplot-nox)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

if [[ "$(id -u)" -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps: missing packages (${missing[*]}) and neither root nor sudo to install them" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
