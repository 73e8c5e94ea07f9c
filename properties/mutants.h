// The mutant campaign: the conformance campaign (properties/campaign.h) run
// against each mutant of the catalog (spec/mutant.h) injected into the impl,
// the reference correct, every invariant checked on the mutated impl too. A
// mutant is killed when the campaign fails; its shrunk counterexample is a
// trace that `memcg-verify replay --model both --mutant NAME` reproduces.
//
// An overlay mutant (overlay/overlay.h: a profile the impl does not model)
// is the reference with one path mutated, in both seats: only an invariant
// kills it, and its trace replays as `replay --model reference --mutant NAME`.
//
// With `invariants_only` the mutated impl also takes the reference's seat
// (reference/ has no mutant hooks): the two models agree, so only an
// invariant can kill it, which shows which invariants catch the bug on their
// own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "properties/campaign.h"
#include "trace/snapshot_json.h"
#include "spec/mutant.h"

namespace mv::kernel {
class KernelSubject;
}

namespace mv::properties {

struct MutantCampaignOptions {
  std::uint64_t seed = 0;
  int runs = 1000;      // RapidCheck runs before the mutant is declared a survivor
  int max_steps = 100;  // the most operations of a run (CampaignOptions::max_steps)
  ConfigChoice configs;
  bool invariants_only = false;
  // A kernel model with the mutant already in its code (a patched tree,
  // kernel/kernel_mutants.h) as the subject instead of the impl;
  // `kernel_flags` names it in replay hints (" --kernel-mutant NAME").
  std::shared_ptr<const kernel::KernelSubject> kernel;
  std::string kernel_flags;
  // The campaign is guarded (properties/campaign_guard.h): a mutated subject
  // that crashes or loops is killed by a model failure with its trace.
  double watchdog_seconds = 30;
  // Unguarded (run_campaign in this process), so that the failure keeps its
  // recipes (RunFailure::recipes, which a guarded campaign does not carry):
  // build/fuzz_seeds writes them as the mutant's fuzz_ops seed.
  bool guarded = true;
};

struct MutantResult {
  spec::Mutant mutant = spec::Mutant::none;
  // The profile the campaign ran on (spec::mutant_profile of the requested one).
  spec::Profile profile = spec::Profile::v6_6;
  bool killed = false;
  std::string error;  // RapidCheck could not run or gave up (neither killed nor survived)
  // How the shrunk counterexample fails: the failure kind ("disagreement",
  // "violation", "model failure") and message, and the invariants the mutated
  // impl's own Monitor finds at that step (a disagreement is found first, when
  // both results and snapshots are compared, before the Monitors run; an
  // invariant listed here fired on the same step).
  std::string kind;
  std::string message;
  std::vector<std::string> invariants;  // distinct ids, in the Monitor's order
  // To the first failing run, before shrinking.
  std::uint64_t runs_to_kill = 0;
  std::uint64_t steps_to_kill = 0;
  double seconds_to_kill = 0;
  std::size_t shrunk_steps = 0;  // operations in the shrunk counterexample
  double seconds = 0;            // the whole campaign, shrinking included
  std::uint64_t runs = 0;        // runs done (all of them when it survived)
  std::uint64_t steps = 0;
  std::optional<RunFailure> failure;
  std::string reproduce_token;
};

MutantResult run_mutant_campaign(spec::Mutant mutant, const MutantCampaignOptions& options);

// A result as JSON and back (`mutants --jobs N` carries them between processes).
trace::Json mutant_result_json(const MutantResult& result);
MutantResult mutant_result_from_json(const trace::Json& json);

// "INV-BYTE-CONSERVATION (same step as the disagreement)", "disagreement", ...
std::string killed_by_text(const MutantResult& result);

// Whether replaying the shrunk trace (the mutant in the impl, the reference
// correct, as `replay --model both --mutant NAME`; in both with
// invariants_only, as `replay --model impl --mutant NAME`) fails at the same
// line. `why` says what happened otherwise. With `kernel`, the trace is
// replayed as `replay --model reference,kernel` on that kernel model.
bool replay_reproduces(const MutantResult& result, bool invariants_only, std::string* why,
                       std::shared_ptr<const kernel::KernelSubject> kernel = nullptr);

}  // namespace mv::properties
