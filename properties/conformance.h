// The conformance step runner: the reference model and a subject (the impl by
// default) in lock-step. Every operation goes through the trace driver
// (trace/driver.h), exactly as a replayed trace line would, then both models
// apply it; after every step their results are equal, their snapshots are
// equal (trace/snapshot_diff.h names the first differing field), and the
// invariant monitor (spec::Monitor) finds no violation on either model's run.
//
// Two ways to check a step, both checking everything above:
// - full: both models' full snapshots, compared, and Monitor::check on each;
//   O(live objects) per step.
// - summary (the default): each model's snapshot without its objects
//   (spec::Model::snapshot_without_objects), compared, plus the object the step
//   allocated or freed (spec::Model::live_object), compared; the live objects'
//   totals (spec::ObjectTotals) kept up to date from those, and
//   Monitor::check_summary on each. A live object's entry may only change at its
//   alloc and free; verify_full() checks that claim (full snapshots equal, and
//   their objects' totals equal to the kept ones) and runs at the end of every
//   property run and every `full_check_interval` steps.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "properties/op_gen.h"
#include "spec/invariants.h"
#include "spec/object_totals.h"
#include "spec/model.h"
#include "spec/mutant.h"
#include "spec/snapshot.h"
#include "trace/driver.h"
#include "trace/names.h"
#include "trace/trace_reader.h"

namespace mv::properties {

using ModelFactory =
    std::function<std::unique_ptr<spec::Model>(const spec::Config&, const spec::PathTable&)>;
ModelFactory impl_factory(spec::Mutant mutant = spec::Mutant::none);       // impl::make_impl_model
ModelFactory reference_factory();  // reference::make_reference_model (it has no mutants)
ModelFactory overlay_factory(spec::Mutant mutant);  // overlay::make_overlay_model

enum class CheckMode { full, summary };

struct StepFailure {
  std::size_t line = 0;  // the trace line of the failing operation; 1 is the initial state
  std::string kind;      // "disagreement", "violation", "model failure", "bad operation"
  std::string message;
  // With monitor_subject in full mode: what the subject's own Monitor finds on
  // the subject's state after the failing step, whatever failed first there
  // (so a mutant's kill by the invariants shows beside a disagreement).
  std::vector<spec::Violation> subject_violations;
  // For a "violation": the violations that failed the step (on the reference,
  // else on the subject).
  std::vector<spec::Violation> violations;
};

// One operation as run: the trace line (as a trace file would hold it) and
// what each model answered.
struct AppliedStep {
  trace::TraceOp line;
  spec::Op op;  // as the driver resolved it
  std::optional<spec::Cpu> cpu;  // where it ran
  spec::Errno reference_result = spec::Errno::ok;
  spec::Errno subject_result = spec::Errno::ok;
};

class Conformance {
 public:
  // `reference_seat_mutant` (spec/mutant.h), when not none, puts the impl
  // with that mutant in the reference's seat (reference/ has no mutant
  // hooks): with the same mutant in the subject the two agree, and only the
  // invariants can catch the bug (the mutants campaign's --invariants-only).
  explicit Conformance(const spec::Config& config, const ModelFactory& subject = impl_factory(),
                       std::string subject_name = "impl", CheckMode mode = CheckMode::summary,
                       spec::Mutant reference_seat_mutant = spec::Mutant::none);
  Conformance(const Conformance&) = delete;
  Conformance& operator=(const Conformance&) = delete;

  // The trace line a recipe stands for in the current state; nullopt when it
  // has nothing to act on (no live task, no live object).
  std::optional<trace::TraceOp> resolve(const OpRecipe& recipe);
  // Resolves and runs; a recipe with nothing to act on is skipped. Returns
  // failure(). Once failed, nothing more runs.
  const std::optional<StepFailure>& run(const OpRecipe& recipe);
  // Runs one concrete trace line (its `line` field is replaced by the next line number).
  const std::optional<StepFailure>& run_line(trace::TraceOp line);
  // Full snapshots of both models: equal, and (summary mode) listing exactly
  // the live objects whose totals the steps kept. Returns failure().
  const std::optional<StepFailure>& verify_full();
  // Summary mode: also verify_full() after every this many steps (0: never).
  std::size_t full_check_interval = 0;
  // Whether the subject's run gets its own Monitor too. The invariants are
  // checked on the reference's snapshots after the subject's were found equal
  // to them (results, snapshots, and in summary mode the step's object), so a
  // second Monitor sees the same inputs, keeps the same history and returns
  // the same violations: on by choice (tests do), off by default for speed.
  // In full mode it also runs on the subject's state after a failing step
  // (StepFailure::subject_violations): a mutated subject's invariant kills.
  bool monitor_subject = false;
  // A design claim (spec/design_claims.h) or a known kernel bug
  // (spec/known_bug.h) whose violations fail the run instead of being counted
  // as the profile's result: `designs` searches for the shortest trace of
  // each this way. Empty: none.
  std::string fail_on_claim;

  // How often each design claim of the profile covered a violation on the
  // reference, and the first line where it did.
  struct ClaimSeen {
    std::uint64_t count = 0;
    std::size_t first_line = 0;
  };
  const std::map<std::string, ClaimSeen>& claims_seen() const { return claims_seen_; }

  const std::optional<StepFailure>& failure() const { return failure_; }
  const spec::Config& config() const { return config_; }
  const trace::TraceNames& names() const { return *names_; }
  const std::vector<AppliedStep>& steps() const { return steps_; }
  // Every recipe run() was given, in order, skipped ones included: the run's
  // program (fuzz/op_encoding.h writes it as fuzz_ops input).
  const std::vector<OpRecipe>& recipes() const { return recipes_; }
  const std::string& subject_name() const { return subject_name_; }
  std::size_t live_objects() const { return live_objects_.size(); }
  std::size_t live_tasks() const { return live_tasks_.size(); }
  // The live objects and tasks in the order recipes index them (OpRecipe::object, ::task).
  const std::vector<spec::ObjKey>& live_object_keys() const { return live_objects_; }
  const std::vector<spec::TaskKey>& live_task_keys() const { return live_tasks_; }
  // What the reference's Monitor remembers of the run (its step invariants' history).
  const spec::Monitor::History& monitor_history() const { return reference_monitor_.history(); }
  // The reference's state after the last step (without objects in summary mode).
  const spec::Snapshot& snapshot() const { return reference_before_; }
  CheckMode mode() const { return mode_; }
  const spec::ObjectTotals& object_totals() const { return totals_; }
  // Violations on the reference that a known kernel bug of the profile
  // explains (spec/known_bug.h): not failures; counted by bug id.
  const std::map<std::string, std::uint64_t>& known_violations() const { return known_violations_; }

 private:
  void fail(std::size_t line, std::string kind, std::string message);
  bool apply_both(const spec::Op& op, std::size_t line, AppliedStep& step);
  bool snapshot_both(std::size_t line, spec::Snapshot& reference, spec::Snapshot& subject);
  bool compare_objects(std::size_t line, const spec::Op& op, spec::Errno result,
                       const std::optional<spec::ObjectSnap>& freed,
                       std::vector<spec::ObjectSnap>& created);
  bool monitor_both(const spec::Op* op, spec::Errno result, const spec::Snapshot& reference,
                    const spec::Snapshot& subject, std::size_t line,
                    const std::vector<spec::ObjectSnap>& created);
  void monitor_subject_after_failure(const AppliedStep& step);
  void track(const spec::Op& op, spec::Errno result);
  spec::Cpu pick_online_cpu(std::uint32_t index) const;
  spec::TaskKey new_task();
  spec::ObjKey new_object();
  spec::ObjKey pick_object(const OpRecipe& recipe) const;

  spec::Config config_;
  CheckMode mode_;
  std::unique_ptr<trace::TraceNames> names_;  // the models keep a reference to its paths
  std::vector<spec::PathKey> pool_keys_;      // by path_pool() index
  std::string subject_name_;
  std::unique_ptr<spec::Model> reference_;
  std::unique_ptr<spec::Model> subject_;
  spec::Monitor reference_monitor_;
  spec::Monitor subject_monitor_;
  trace::Driver driver_;
  spec::Snapshot reference_before_;
  spec::Snapshot subject_before_;
  // Each step's snapshots, before they become the *_before_ of the next
  // (swapped, so that both pairs keep their lists' storage).
  spec::Snapshot reference_after_;
  spec::Snapshot subject_after_;
  spec::ObjectTotals totals_;  // summary mode: of the live objects after the last step

  std::vector<spec::TaskKey> live_tasks_;      // in spawn order
  std::vector<bool> task_live_;                // by TaskKey
  std::vector<spec::ObjKey> live_objects_;     // unordered (swap-removed)
  std::vector<std::uint32_t> object_slot_;     // by ObjKey: index in live_objects_
  std::vector<spec::TaskKey> object_owner_;    // by ObjKey: the allocating task
  std::vector<spec::ObjcgId> object_objcg_;    // by ObjKey: charged through (0: none)
  std::vector<AppliedStep> steps_;
  std::vector<OpRecipe> recipes_;
  std::optional<StepFailure> failure_;
  std::map<std::string, std::uint64_t> known_violations_;
  std::map<std::string, ClaimSeen> claims_seen_;
};

}  // namespace mv::properties
