#!/usr/bin/env bash
# The verification verdict, from a fresh machine: installs what is missing,
# builds, then runs every check the build has and prints one verdict.
#   - every bundled scenario (scenarios/NAME.jsonl) replayed and compared with
#     scenarios/NAME.expect.json, in lock-step with the impl when it is built;
#   - every Z3 lemma (memcg-verify prove), when the build has the proofs;
#   - a conformance campaign (memcg-verify check) of about a minute with a
#     fixed seed: the impl against the reference, every invariant every step;
#   - a bounded kernel campaign (memcg-verify check --subject kernel): the
#     kernel's own code of the build's default tree (docs/KERNEL-CHANGE.md)
#     against the reference, every invariant every step, when the build has
#     a kernel tree;
#   - the exhaustive small scope (memcg-verify enumerate) to depth 5: every
#     string of the small alphabet, deduplicated by state;
#   - the mutant table (memcg-verify mutants): every catalogued bug injected
#     into the impl must be killed, its counterexample written to
#     build/mutants/ and replayed;
#   - a bounded exploration of interleavings (memcg-verify explore): PCT and
#     random schedules and the bounded search of every harness on the
#     correct impl find nothing, and each interleaving mutant is found;
#   - the design matrix (memcg-verify designs): a campaign on every modeled
#     profile, every cell as the designs' claims and known bugs say, the
#     shortest trace of each written to build/designs/ (docs/DESIGNS.md).
# Exit status (docs/DESIGN.md): 0 everything holds, 1 the subject is wrong, 2 bad
# input or usage, 3 undecided.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh

bin=build/memcg-verify
has_command() { "$bin" --help 2>/dev/null | grep -Eq "^[[:space:]]+$1([[:space:]]|$)"; }

names=()
codes=()
run_step() {
  local name=$1
  shift
  echo
  echo "== $name: memcg-verify $*"
  local code=0
  "$bin" "$@" || code=$?
  names+=("$name")
  codes+=("$code")
}

run_step scenarios scenarios scenarios
if has_command prove; then
  run_step proofs prove
else
  echo
  echo "== proofs: this build has no 'prove' command (proofs/ not built); skipped"
fi
if has_command check; then
  run_step check check --seed 1 --runs 30000 --steps 1000 --out build
else
  echo
  echo "== check: this build has no 'check' command (properties/ not built); skipped"
fi
if has_command kernel && "$bin" kernel > /dev/null 2>&1; then
  run_step kernel check --subject kernel --seed 1 --runs "${MV_KERNEL_RUNS:-2000}" --steps 500 --out build
else
  echo
  echo "== kernel: this build has no kernel model (no kernel tree when CMake configured); skipped"
fi
if has_command enumerate; then
  run_step enumerate enumerate --depth "${MV_ENUMERATE_DEPTH:-5}" --out build
else
  echo
  echo "== enumerate: this build has no 'enumerate' command; skipped"
fi
if has_command mutants; then
  run_step mutants mutants --seed 1 --out build/mutants
else
  echo
  echo "== mutants: this build has no 'mutants' command (properties/ not built); skipped"
fi
if has_command explore; then
  # Interleavings: the correct impl under PCT, the random walk (with random
  # harnesses) and the whole bounded search of every built-in harness; then
  # each interleaving mutant must be found.
  run_step explore-pct explore --strategy pct --seed 1 --schedules 20000 --random-harnesses 20 --out build/explore
  run_step explore-random explore --strategy random --seed 1 --schedules 20000 --random-harnesses 20 --out build/explore
  run_step explore-dfs explore --strategy dfs --seed 1 --schedules 200000 --out build/explore
  # (An overlay mutant, cache_put_before_alloc, runs explore's race search over
  # the reference of its profile, v5.2.)
  run_step explore-v5.2 explore --profile v5.2 --seed 1 --random-harnesses 20 --out build/explore
  # v5.10's race (charge_vs_offline_v5.10): the correct impl's whole bounded
  # search shows only the known kernel bug root_charge_skipped (c5c8b16b596e);
  # css_get instead of css_tryget (eefbfa7fd678 reverted) must be found there.
  run_step explore-v5.10 explore --strategy dfs --seed 1 --schedules 200000 \
    --harness charge_vs_offline_v5.10 --out build/explore
  code=0
  echo
  echo "== explore-v5.10-css_get_not_tryget: memcg-verify explore --harness charge_vs_offline_v5.10 --mutant css_get_not_tryget (must fail)"
  "$bin" explore --strategy dfs --seed 1 --schedules 10000 --harness charge_vs_offline_v5.10 \
    --mutant css_get_not_tryget --out build/explore || code=$?
  names+=("explore-v5.10-css_get_not_tryget")
  case $code in 1) codes+=(0) ;; 0) codes+=(1) ;; *) codes+=("$code") ;; esac
  for mutant in $("$bin" mutants --list | awk '$2 == "interleaving" {print $1}'); do
    code=0
    echo
    echo "== explore-$mutant: memcg-verify explore --strategy dfs --mutant $mutant (must fail)"
    "$bin" explore --strategy dfs --seed 1 --schedules 10000 --mutant "$mutant" --out build/explore || code=$?
    names+=("explore-$mutant")
    # Found (exit 1) is what holds here.
    case $code in 1) codes+=(0) ;; 0) codes+=(1) ;; *) codes+=("$code") ;; esac
  done
else
  echo
  echo "== explore: this build has no 'explore' command (explore/ not built); skipped"
fi

if has_command designs; then
  designs_out=build/designs
  run_step designs designs --seed 1 --runs "${MV_DESIGNS_RUNS:-3000}" --traces "$designs_out" \
    --matrix "$designs_out/matrix.json" --doc "$designs_out/DESIGNS.markdown"
else
  echo
  echo "== designs: this build has no 'designs' command (properties/ not built); skipped"
fi

# 1 (the subject is wrong) outranks 2 (bad input) and 3 (undecided).
verdict=0
echo
echo "== verdict"
for i in "${!names[@]}"; do
  code=${codes[$i]}
  case $code in
    0) word=holds ;;
    1) word="FAILED (the subject is wrong)" ;;
    2) word="FAILED (bad input or usage)" ;;
    3) word="UNDECIDED" ;;
    *) word="FAILED (exit $code)" ;;
  esac
  printf '  %-40s %s\n' "${names[$i]}" "$word"
  if ((code == 1)); then
    verdict=1
  elif ((code != 0 && verdict == 0)); then
    verdict=$code
  fi
done
if ((verdict == 0)); then
  echo "verify: everything checked holds"
else
  echo "verify: FAILED (exit $verdict)"
fi
exit "$verdict"
