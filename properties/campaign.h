// The conformance property as a RapidCheck stateful test (rc::state): the
// model is GenState, the system under test a Conformance step runner, one
// command per operation recipe. conformance_property() is the property body
// (tests use it through rapidcheck/gtest.h); run_campaign() drives it
// programmatically with a seed, a number of runs and RapidCheck's shrinking,
// and keeps the shrunk failing sequence as a trace (`memcg-verify check`).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include "properties/conformance.h"
#include "properties/op_gen.h"
#include "spec/coverage.h"

namespace mv::properties {

// One RapidCheck command: an operation recipe drawn for the model's state.
class OpCommand final : public rc::state::Command<GenState, Conformance> {
 public:
  explicit OpCommand(const GenState& state) : recipe_(*gen_recipe(state)) {}
  void checkPreconditions(const GenState& state) const override;
  void apply(GenState& state) const override;
  void run(const GenState& state, Conformance& sut) const override;
  void show(std::ostream& os) const override;
  const OpRecipe& recipe() const { return recipe_; }

 private:
  OpRecipe recipe_;
};

// The shrunk failure of a property: everything needed to show and replay it.
struct RunFailure {
  spec::Config config;
  StepFailure failure;
  std::size_t nr_steps = 0;  // steps up to and including the failing one
  std::string table;         // properties/failure_trace.h steps_table
  std::string trace_jsonl;   // the trace file's contents
  std::vector<OpRecipe> recipes;  // the shrunk run's recipes (Conformance::recipes)
};

// What one campaign counts, across its runs (shrinking runs included).
struct CampaignStats {
  std::uint64_t runs = 0;
  std::uint64_t steps = 0;
  std::uint64_t max_live_objects = 0;
  std::array<std::uint64_t, kNrOpKinds> ops{};  // applied steps by op (OpKind order)
  std::array<std::array<std::uint64_t, 2>, 4> allocs{};  // by AllocKind, then nofail
  std::uint64_t cross_cpu_frees = 0;  // frees on another CPU than their allocation ran on
  // Violations a known kernel bug of the profile explains, by bug id: results
  // of the profile, not failures (spec/known_bug.h).
  std::map<std::string, std::uint64_t> known_bug_violations;
  // Steps on which a design claim of the profile covered a violation, by
  // claim id (Conformance::claims_seen, summed over the runs).
  std::map<std::string, std::uint64_t> claims_seen;
  // The first failing run, before any shrinking: runs and steps up to and
  // including it, and the seconds from the campaign's start to its end.
  std::chrono::steady_clock::time_point start{};
  std::optional<std::uint64_t> first_failure_runs;
  std::uint64_t first_failure_steps = 0;
  double first_failure_seconds = 0;
};

struct PropertyOptions {
  ConfigChoice configs;
  ModelFactory subject = impl_factory();
  std::string subject_name = "impl";
  CheckMode mode = CheckMode::summary;
  bool monitor_subject = false;  // Conformance's option of that name
  spec::Mutant reference_seat_mutant = spec::Mutant::none;  // Conformance's of that name
  std::string fail_on_claim;                           // Conformance's of that name
  // Filled by every failing run: RapidCheck accepts every failing shrink, so
  // after the property returns it holds the shrunk sequence.
  std::shared_ptr<std::optional<RunFailure>> last_failure;
  std::shared_ptr<CampaignStats> stats;
};

// The property: a configuration, then a command sequence run in lock-step;
// RC_FAIL on the first step that fails (results, snapshots, invariants).
void conformance_property(const PropertyOptions& options);

// The defaults of `memcg-verify check`: with the generator's biases
// (properties/op_gen.h) they hit every coverage mark on any seed, with a
// margin (tests/properties_conformance_test.cc checks it on consecutive
// seeds, scripts/check-seeds.sh measures any number).
inline constexpr int kDefaultCheckRuns = 1000;
inline constexpr int kDefaultCheckSteps = 100;

struct CampaignOptions {
  std::uint64_t seed = 0;
  int runs = kDefaultCheckRuns;        // RapidCheck's max_success
  int max_steps = kDefaultCheckSteps;  // the most operations of a run (RapidCheck's max_size + 1)
  bool shrink = true;
  std::string reproduce;  // a token from an earlier failure: run just that case
  ConfigChoice configs;
  ModelFactory subject = impl_factory();
  std::string subject_name = "impl";
  CheckMode mode = CheckMode::summary;
  bool monitor_subject = false;
  // The impl with this mutant in the reference's seat (Conformance).
  spec::Mutant reference_seat_mutant = spec::Mutant::none;
  // A design claim or known bug whose violations fail the campaign
  // (Conformance::fail_on_claim).
  std::string fail_on_claim;
  // Called after every run (not during shrinking) with the runs done so far.
  std::function<void(std::uint64_t runs, const CampaignStats& stats)> progress;
  // run_campaign_guarded (properties/campaign_guard.h): seconds without a
  // checked step after which the subject counts as looping. No step of a
  // correct model comes near it (a step at 10,000 live objects in full mode
  // takes milliseconds); generous for a loaded machine.
  double watchdog_seconds = 30;
};

struct CampaignResult {
  bool passed = false;
  std::string error;  // RapidCheck gave up or could not run (exit 3 / 2)
  CampaignStats stats;
  double seconds = 0;
  spec::MarkCounts marks{};
  // Never hit (only meaningful when passed): the campaign did not reach those
  // kernel paths, so its verdict is incomplete (exit 3), not a failure.
  std::vector<spec::Mark> missing_marks;
  std::optional<RunFailure> failure;
  std::string rapidcheck_message;  // RapidCheck's own failure text (counterexample)
  std::string reproduce_token;     // RC_PARAMS style: "reproduce=..."
};

CampaignResult run_campaign(const CampaignOptions& options);

// The marks that apply to `profile` (spec::mark_applies) and were never hit.
std::vector<spec::Mark> marks_never_hit(const spec::MarkCounts& marks, spec::Profile profile);

}  // namespace mv::properties
