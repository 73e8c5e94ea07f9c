// Replays a trace: the driver (trace/driver.h) turns each line into an
// operation, one model applies it (or two in lock-step, compared after every
// operation), and the invariant monitor (spec/invariants.h) checks every step.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spec/invariants.h"
#include "spec/model.h"
#include "spec/mutant.h"
#include "spec/operation.h"
#include "spec/snapshot.h"
#include "trace/snapshot_diff.h"
#include "trace/trace_reader.h"

namespace mv::kernel {
class KernelSubject;
}

namespace mv::trace {

// `both` is reference and impl in lock-step; `reference_kernel` (spelled
// "reference,kernel") is the reference and the kernel's own code
// (kernel/kernel_subject.h) in lock-step.
enum class ModelChoice { reference, impl, both, kernel, reference_kernel };

// Whether this build links the optimized implementation (impl/*.cc exist).
bool impl_available();
// Whether the choice needs the impl, the kernel model.
bool uses_impl(ModelChoice choice);
bool uses_kernel(ModelChoice choice);
// Whether this build's impl models `profile` (false without the impl).
bool impl_models(spec::Profile profile);
// `choice`, or the reference alone when it asks for the impl in lock-step
// (both) on a profile the impl does not model: such a trace runs on the
// reference only (docs/DESIGNS.md).
ModelChoice lock_step_or_reference(spec::Profile profile, ModelChoice choice);
std::optional<ModelChoice> parse_model_choice(std::string_view name);
std::string_view model_choice_name(ModelChoice choice);

struct StepRecord {
  std::size_t line = 0;
  spec::Op op;  // as applied: CPUs resolved
  std::optional<spec::Cpu> cpu;  // where it ran (Driver::runs_on)
  spec::Errno result = spec::Errno::ok;
};

struct ViolationRecord {
  std::size_t line = 0;  // 1 (the header) for the initial state
  spec::Violation violation;
};

// reference and impl answered or ended differently after `line`.
struct Disagreement {
  std::size_t line = 0;
  std::string message;  // the first difference: "objcgs[id=1].refs: reference 2, impl 3"
  // Both sides of every differing field (up to kMaxDifferences), as the
  // report shows them; a_name is the checked model, b_name the other.
  std::string a_name, b_name;
  std::vector<FieldDifference> differences;
};
inline constexpr std::size_t kMaxDifferences = 20;

// A model threw instead of answering (never expected: models report misuse as
// events). The subject is wrong, not the input.
struct ModelFailure {
  std::size_t line = 0;
  std::string model;
  std::string message;
};

// Where a replay is, for a watchdog in another process
// (trace/isolated_replay.h): set before every call into a model or the
// monitor. It lives in memory shared with the watchdog, which reads `line`,
// `model` and `doing` only once the replaying process is gone.
struct ReplayProgress {
  std::atomic<std::uint64_t> beats{0};  // one more at every call
  std::size_t line = 1;                 // the line being replayed (1: the header)
  char model[32] = {};                  // who was called: a model's name, or "checker"
  char doing[48] = {};                  // what it was asked: "applying the line", ...
  std::atomic<bool> finished{false};    // the replay returned: its report follows, unwatched
  void at(std::size_t line, std::string_view model, std::string_view doing);
};

// A data race the detector of a race trace's scheduler saw (trace/race.h).
struct RaceRecord {
  std::size_t line = 0;
  std::string model;
  std::string message;
};

struct ReplayResult {
  ModelChoice model = ModelChoice::reference;
  spec::Profile profile = spec::Profile::v6_6;  // the trace's (when it has a header)
  std::vector<StepRecord> steps;
  std::vector<ViolationRecord> violations;
  // The state after the last applied line; absent when no model could be made
  // (a bad header).
  std::optional<spec::Snapshot> snapshot;
  std::optional<TraceError> error;  // the replay stopped here: bad input
  std::optional<Disagreement> disagreement;
  std::optional<ModelFailure> model_failure;
  // The kernel tree, when the kernel model took part ("Linux 6.1.192 from ...").
  std::string kernel;
  std::optional<RaceRecord> data_race;

  // docs/DESIGN.md: 0 everything holds, 1 the subject is wrong, 2 bad input. A
  // violation that a known kernel bug of the profile explains
  // (spec/known_bug.h), or that a design claim of the profile covers
  // (spec/design_claims.h), does not make the subject wrong.
  int exit_code() const;
  std::string verdict() const;  // one line
  // Violations neither a known kernel bug nor a design claim explains.
  std::size_t nr_unexplained() const;
  // "<lead>3 violations of the known kernel bug X (fixed by F)", or "" when
  // no violation is known.
  std::string known_text(std::string_view lead) const;
};

// Replays `trace` with the chosen models. The result holds no reference to
// `trace`; the report takes the names from it. Throws std::invalid_argument
// for ModelChoice::impl or both when impl_available() is false. `mutant`
// (spec/mutant.h) is injected into the impl for impl and both; the reference
// has no mutants (ModelChoice::reference ignores it; `replay` refuses the
// pair). A model without that mutant is a model failure at line 1. `kernel` is the kernel
// model of the kernel choices (default: the build's default tree; a kernel
// mutant is a patched tree, kernel/kernel_mutants.h). `progress`, when given,
// follows the replay (trace/isolated_replay.h).
ReplayResult replay(const Trace& trace, ModelChoice choice,
                    spec::Mutant mutant = spec::Mutant::none,
                    std::shared_ptr<const kernel::KernelSubject> kernel = nullptr,
                    ReplayProgress* progress = nullptr);

struct NamedModel {
  std::string name;  // in disagreement messages: "reference", "impl"
  std::unique_ptr<spec::Model> model;
};

// Replays with the given models (built over trace.names.paths): the first is
// checked and reported, every other one is compared with it after every
// operation. `label` is what the report calls the run. A race trace
// (Trace::has_races) needs models that can be preempted
// (Model::set_scheduler): replay() then builds the impl's hooks build.
ReplayResult replay_models(const Trace& trace, std::vector<NamedModel> models, ModelChoice label,
                           ReplayProgress* progress = nullptr);

}  // namespace mv::trace
