#include "trace/replay.h"

#include <map>
#include <algorithm>
#include <cstring>
#include <memory>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "kernel/kernel_subject.h"
#include "overlay/overlay.h"
#include "reference/model.h"
#include "spec/incremental_state.h"
#include "spec/known_bug.h"
#include "spec/model.h"
#include "spec/overloaded.h"
#include "spec/snapshot_delta.h"
#include "trace/driver.h"
#include "trace/race.h"
#include "trace/snapshot_diff.h"
#ifdef MV_HAVE_IMPL
#include "impl/model.h"
#include "impl/sched_build.h"
#endif

namespace mv::trace {

bool impl_available() {
#ifdef MV_HAVE_IMPL
  return true;
#else
  return false;
#endif
}

bool uses_impl(ModelChoice choice) { return choice == ModelChoice::impl || choice == ModelChoice::both; }

bool uses_kernel(ModelChoice choice) {
  return choice == ModelChoice::kernel || choice == ModelChoice::reference_kernel;
}

bool impl_models(spec::Profile profile) {
#ifdef MV_HAVE_IMPL
  return impl::models_profile(profile);
#else
  return false;
#endif
}

ModelChoice lock_step_or_reference(spec::Profile profile, ModelChoice choice) {
  return choice == ModelChoice::both && !impl_models(profile) ? ModelChoice::reference : choice;
}

std::optional<ModelChoice> parse_model_choice(std::string_view name) {
  if (name == "reference") return ModelChoice::reference;
  if (name == "impl") return ModelChoice::impl;
  if (name == "both") return ModelChoice::both;
  if (name == "kernel") return ModelChoice::kernel;
  if (name == "reference,kernel") return ModelChoice::reference_kernel;
  return std::nullopt;
}

std::string_view model_choice_name(ModelChoice choice) {
  switch (choice) {
    case ModelChoice::reference: return "reference";
    case ModelChoice::impl: return "impl";
    case ModelChoice::both: return "both";
    case ModelChoice::kernel: return "kernel";
    case ModelChoice::reference_kernel: return "reference,kernel";
  }
  return "?";
}

std::size_t ReplayResult::nr_unexplained() const {
  std::size_t n = 0;
  for (const auto& v : violations) n += v.violation.explained() ? 0 : 1;
  return n;
}

int ReplayResult::exit_code() const {
  if (error) return 2;
  if (model_failure || disagreement || data_race || nr_unexplained() != 0) return 1;
  return 0;
}

std::string ReplayResult::verdict() const {
  if (error) return fmt::format("BAD INPUT: {}", error->what());
  if (model_failure)
    return fmt::format("MODEL FAILURE at line {}: {} threw: {}", model_failure->line,
                       model_failure->model, model_failure->message);
  if (disagreement)
    return fmt::format("DISAGREEMENT at line {}: {}", disagreement->line, disagreement->message);
  if (data_race)
    return fmt::format("DATA RACE at line {} ({}): {}", data_race->line, data_race->model,
                       data_race->message);
  // Explained violations: a design claim's (the profile's documented result)
  // or a known kernel bug's.
  std::set<std::string> failing, expected;
  for (const auto& v : violations) {
    if (!v.violation.explained()) failing.insert(v.violation.invariant);
    if (v.violation.expected()) expected.insert(v.violation.invariant);
  }
  auto list = [](const std::set<std::string>& ids) {
    std::string text;
    for (const auto& id : ids) text += fmt::format("{}{}", text.empty() ? "" : ", ", id);
    return text;
  };
  if (!failing.empty()) {
    const std::size_t n = nr_unexplained();
    return fmt::format("VIOLATED: {} violation{} ({}){}", n, n == 1 ? "" : "s", list(failing),
                       known_text(", besides "));
  }
  if (!expected.empty()) {
    std::size_t n = 0;
    for (const auto& v : violations) n += v.violation.expected() ? 1 : 0;
    return fmt::format(
        "OK: every invariant holds over {} steps, apart from {} violation{} the {} design is "
        "documented to have ({}){}",
        steps.size(), n, n == 1 ? "" : "s", spec::profile_name(profile), list(expected),
        known_text(", and "));
  }
  if (model == ModelChoice::both || model == ModelChoice::reference_kernel)
    return fmt::format("OK: every invariant holds; reference and {} agree on all {} steps{}",
                       model == ModelChoice::both ? "impl" : "kernel", steps.size(),
                       known_text(", but for "));
  return fmt::format("OK: every invariant holds over {} steps{}", steps.size(),
                     known_text(", but for "));
}

std::string ReplayResult::known_text(std::string_view lead) const {
  std::map<std::string, std::size_t> by_bug;
  for (const auto& v : violations)
    if (v.violation.known()) ++by_bug[v.violation.known_bug];
  if (by_bug.empty()) return {};
  std::string list;
  for (const auto& [id, n] : by_bug) {
    const spec::KnownBug* bug = spec::find_known_bug(id);
    list += fmt::format("{}{} violation{} of the known kernel bug {} (fixed by {})",
                        list.empty() ? "" : "; ", n, n == 1 ? "" : "s", id,
                        bug ? bug->fix : std::string_view("?"));
  }
  return fmt::format("{}{}", lead, list);
}

namespace {

std::vector<NamedModel> make_models(const Trace& trace, ModelChoice choice, spec::Mutant mutant,
                                    const kernel::KernelSubject* kernel) {
  std::vector<NamedModel> models;
  // The reference has no mutants: `mutant` goes into the impl, or, for an
  // overlay (a mutant of a profile the impl does not model), the overlaid
  // reference takes the reference's seat alone (overlay/overlay.h).
  if (choice == ModelChoice::reference && overlay::is_overlay(mutant)) {
    models.push_back({"reference", overlay::make_overlay_model(trace.config, trace.names.paths, mutant)});
    return models;
  }
  if (choice == ModelChoice::reference || choice == ModelChoice::both ||
      choice == ModelChoice::reference_kernel)
    models.push_back({"reference", reference::make_reference_model(trace.config, trace.names.paths)});
#ifdef MV_HAVE_IMPL
  // A race trace preempts the impl: its hooks build (impl/sched_build.h).
  if (uses_impl(choice))
    models.push_back({"impl", trace.has_races()
                                  ? impl_sched::make_impl_model(trace.config, trace.names.paths,
                                                                mutant)
                                  : impl::make_impl_model(trace.config, trace.names.paths, mutant)});
#endif
  if (uses_kernel(choice))
    models.push_back({"kernel", kernel->make_model(trace.config, trace.names.paths)});
  return models;
}

// Runs the lines; returns early on the first trace error, model failure or
// disagreement, leaving `result` with everything before it.
//
// Each step costs what it changed, not the size of the state (issue 12): the
// models' snapshots without their live objects are compared, and the step's
// own object (an alloc's or a free's, spec::Model::live_object), or for one
// model only what it changed (spec::Model::take_changes); the monitor
// checks the step incrementally (Monitor::check_delta over an
// IncrementalState). At the end, every model's full snapshot must be the state
// kept step by step: an object that changed outside its alloc and free is a
// disagreement, never missed. A model whose snapshot is not canonical
// (spec/snapshot_delta.h) is checked in full from then on, and so is a race
// trace (its steps are checked at quiescent lines, from full snapshots) and a
// profile with per-memcg kmem_caches.
class Replayer {
 public:
  Replayer(const Trace& trace, ReplayResult& result, ReplayProgress* progress)
      : trace_(trace), result_(result), progress_(progress) {}

  void run(std::vector<NamedModel> models) {
    models_ = std::move(models);
    spec::Monitor monitor(trace_.config);
    Driver driver(trace_.config);
    // The initial state is checked too, attributed to the header line.
    std::size_t line = 1;
    spec::Snapshot before;
    if (!snapshot_all(line, before, Full::yes)) return;
    result_.snapshot = before;
    if (trace_.has_races()) {
      at(line, "checker", "checking the invariants");
      record_violations(line, monitor.check(spec::Step{nullptr, nullptr, spec::Errno::ok, &before}));
      monitor.set_concurrent();
      RaceReplay race(*this, monitor, driver, std::move(before));
      race.run();
      if (!result_.error && trace_.error) result_.error = trace_.error;
      return;
    }
    // The incremental state does not follow kmem_caches and slab pages
    // (spec/state_view.h): the profiles that have them are checked in full.
    if (auto store = spec::SnapshotStore::of(before);
        store && !trace_.config.profile_traits().has_memcg_caches())
      state_ = std::make_unique<spec::IncrementalState>(std::move(*store));
    at(line, "checker", "checking the invariants");
    record_violations(line, state_ ? monitor.check_delta(nullptr, spec::Errno::ok, *state_, before.objects)
                                   : monitor.check(spec::Step{nullptr, nullptr, spec::Errno::ok, &before}));
    if (state_) {
      before = {};  // kept in state_ from here on
      // One model that lists its changes (spec::Model::take_changes) is not
      // snapshotted whole on every step; two are compared whole.
      std::optional<spec::SnapshotDelta> since_boot;
      if (models_.size() == 1 && !take_changes(line, since_boot)) return;
      tracks_changes_ = since_boot.has_value();
    }
    for (const auto& trace_op : trace_.ops) {
      line = trace_op.line;
      auto resolved = driver.resolve(trace_op, trace_.names);
      if (!resolved.op) {
        result_.error = TraceError{trace_.file, line, resolved.problem};
        break;
      }
      const auto& op = *resolved.op;
      spec::Errno errno_result{};
      auto cpu = driver.runs_on(op);
      if (!apply_all(line, op, cpu, errno_result)) break;
      result_.steps.push_back(StepRecord{line, op, cpu, errno_result});
      if (state_) {
        if (!step_incrementally(line, op, errno_result, monitor, before)) break;
      } else {
        spec::Snapshot after;
        if (!snapshot_all(line, after, Full::yes)) break;
        at(line, "checker", "checking the invariants");
        record_violations(line, monitor.check(spec::Step{&before, &op, errno_result, &after}));
        before = std::move(after);
      }
      driver.observe(op, errno_result, line);
    }
    if (!disagreement_snapshot_) result_.snapshot = state_ ? state_->store().snapshot() : before;
    if (result_.disagreement || result_.model_failure) return;
    if (state_) verify_kept_state(line);
    if (trace_.error) result_.error = trace_.error;
  }

 private:
  enum class Full : bool { no, yes };

  // One step: the models' snapshots without objects and the step's object,
  // compared; the state moved forward; the monitor on what changed. `full`
  // receives the state when the incremental path gives up on this run.
  bool step_incrementally(std::size_t line, const spec::Op& op, spec::Errno result,
                          spec::Monitor& monitor, spec::Snapshot& full) {
    std::optional<spec::SnapshotDelta> delta;
    if (tracks_changes_) {
      if (!take_changes(line, delta)) return false;
    } else {
      spec::Snapshot after;
      if (!snapshot_all(line, after, Full::no)) return false;
      delta = spec::snapshot_delta(state_->store(), after, spec::Objects::ignore);
    }
    std::optional<spec::ObjectSnap> object;
    std::optional<spec::ObjKey> key = object_of(op);
    if (key && !live_object_all(line, *key, object)) return false;
    if (delta && key) {
      auto& objects = state_->store().objects;
      auto it = objects.find(*key);
      if (object && (it == objects.end() || !(it->second == *object))) delta->objects.push_back(*object);
      if (!object && it != objects.end()) delta->objects_gone.push_back(*key);
    }
    if (delta && state_->apply(*delta)) {
      at(line, "checker", "checking the invariants");
      record_violations(line, monitor.check_delta(&op, result, *state_, delta->objects));
      return true;
    }
    // Not canonical, or not a change of the kept state: the full snapshots
    // from here on.
    spec::Snapshot before = state_->store().snapshot();
    state_.reset();
    if (!snapshot_all(line, full, Full::yes)) return false;
    at(line, "checker", "checking the invariants");
    record_violations(line, monitor.check(spec::Step{&before, &op, result, &full}));
    return true;
  }

  bool take_changes(std::size_t line, std::optional<spec::SnapshotDelta>& out) {
    at(line, models_[0].name, "listing its changes");
    try {
      out = models_[0].model->take_changes();
      return true;
    } catch (const std::exception& e) {
      result_.model_failure = ModelFailure{line, models_[0].name, e.what()};
      return false;
    }
  }

  static std::optional<spec::ObjKey> object_of(const spec::Op& op) {
    if (const auto* alloc = std::get_if<spec::Alloc>(&op)) return alloc->obj;
    if (const auto* free = std::get_if<spec::Free>(&op)) return free->obj;
    return std::nullopt;
  }

  // The step's object as every model lists it; they must agree.
  bool live_object_all(std::size_t line, spec::ObjKey key, std::optional<spec::ObjectSnap>& out) {
    std::vector<std::optional<spec::ObjectSnap>> found;
    for (auto& m : models_) {
      at(line, m.name, "listing the line's object");
      try {
        found.push_back(m.model->live_object(key));
      } catch (const std::exception& e) {
        result_.model_failure = ModelFailure{line, m.name, e.what()};
        return false;
      }
    }
    out = found.front();
    for (std::size_t i = 1; i < found.size(); ++i) {
      if (found[i] == out) continue;
      spec::Snapshot a, b;
      if (out) a.objects.push_back(*out);
      if (found[i]) b.objects.push_back(*found[i]);
      disagree(differ(line, snapshot_differences(a, b, trace_.names, kMaxDifferences),
                      models_[0].name, models_[i].name,
                      fmt::format("object \"{}\"", trace_.names.objects.name(key))));
      return false;
    }
    return true;
  }

  // After the last line: every model's full snapshot is the state checked.
  void verify_kept_state(std::size_t line) {
    const spec::Snapshot kept = state_->store().snapshot();
    for (auto& m : models_) {
      at(line, m.name, "taking its snapshot");
      spec::Snapshot full;
      try {
        full = m.model->snapshot();
      } catch (const std::exception& e) {
        result_.model_failure = ModelFailure{line, m.name, e.what()};
        return;
      }
      if (full == kept) continue;
      disagree(differ(line, snapshot_differences(kept, full, trace_.names, kMaxDifferences),
                      "kept step by step", m.name,
                      fmt::format("the {} model's full snapshot is not the state checked step by "
                                  "step (an object changed outside its alloc and free?)",
                                  m.name)));
      return;
    }
  }

  // The report of a disagreement shows the first model's full state.
  void disagree(Disagreement disagreement) {
    try {
      result_.snapshot = models_[0].model->snapshot();
      disagreement_snapshot_ = true;
    } catch (const std::exception&) {
    }
    result_.disagreement = std::move(disagreement);
  }

  // Two states that differ at `line`, as a disagreement of `a` and `b`; its
  // message is the first difference, after `context` if any.
  static Disagreement differ(std::size_t line, std::vector<FieldDifference> diffs, std::string a,
                             std::string b, std::string_view context = {}) {
    if (diffs.empty()) diffs.push_back({"state", "?", "?"});  // equal as JSON: never expected
    std::string message = diffs.front().message(a, b);
    if (!context.empty()) message = fmt::format("{}: {}", context, message);
    return Disagreement{line, std::move(message), std::move(a), std::move(b), std::move(diffs)};
  }

  bool apply_all(std::size_t line, const spec::Op& op, std::optional<spec::Cpu> cpu,
                 spec::Errno& out) {
    std::vector<spec::Errno> results;
    for (auto& m : models_) {
      at(line, m.name, "applying the line");
      try {
        results.push_back(m.model->apply(op));
      } catch (const std::exception& e) {
        result_.model_failure = ModelFailure{line, m.name, e.what()};
        return false;
      }
    }
    out = results.front();
    for (std::size_t i = 1; i < results.size(); ++i) {
      if (results[i] != out) {
        result_.steps.push_back(StepRecord{line, op, cpu, out});
        FieldDifference d{"result", std::string(spec::errno_name(out)),
                          std::string(spec::errno_name(results[i]))};
        result_.disagreement = Disagreement{line, d.message(models_[0].name, models_[i].name),
                                            models_[0].name, models_[i].name, {d}};
        return false;
      }
    }
    return true;
  }

  // The first model's snapshot (without objects unless `full`); the others
  // must equal it.
  bool snapshot_all(std::size_t line, spec::Snapshot& out, Full full = Full::yes) {
    std::vector<spec::Snapshot> snaps;
    for (auto& m : models_) {
      at(line, m.name, "taking its snapshot");
      try {
        snaps.push_back(full == Full::yes ? m.model->snapshot() : m.model->snapshot_without_objects());
      } catch (const std::exception& e) {
        result_.model_failure = ModelFailure{line, m.name, e.what()};
        return false;
      }
    }
    for (std::size_t i = 1; i < snaps.size(); ++i) {
      if (auto diffs = snapshot_differences(snaps[0], snaps[i], trace_.names, kMaxDifferences);
          !diffs.empty()) {
        disagree(differ(line, std::move(diffs), models_[0].name, models_[i].name));
        return false;
      }
    }
    out = std::move(snaps.front());
    return true;
  }

  void record_violations(std::size_t line, std::vector<spec::Violation> found) {
    for (auto& v : found) result_.violations.push_back(ViolationRecord{line, std::move(v)});
  }

  void at(std::size_t line, std::string_view who, std::string_view doing) {
    if (progress_) progress_->at(line, who, doing);
  }

  // A race trace (docs/TRACE_FORMAT.md "Races"): every line runs in a fiber of
  // each model's RaceRunner; an operation may stop at a preemption point and
  // finish at its resume line. Invariants are checked at the quiescent lines
  // (no operation stopped), where the snapshots are comparable with a
  // sequential run's.
  class RaceReplay {
   public:
    RaceReplay(Replayer& r, spec::Monitor& monitor, Driver& driver, spec::Snapshot quiescent)
        : r_(r), monitor_(monitor), driver_(driver), quiescent_(std::move(quiescent)) {}

    void run() {
      try {
        for (auto& m : r_.models_) runners_.push_back(std::make_unique<RaceRunner>(*m.model));
      } catch (const std::exception& e) {
        r_.result_.model_failure = ModelFailure{1, r_.models_.front().name, e.what()};
        return;
      }
      for (const auto& trace_op : r_.trace_.ops)
        if (!line(trace_op)) break;
      if (!stopped_ && !pending_.empty()) {
        const auto& [id, p] = *pending_.begin();
        fail_input(p.line, fmt::format("the operation preempted as \"{}\" is never resumed", id));
      }
      for (auto& runner : runners_) runner->finish_all();
    }

   private:
    // An operation stopped at a preemption point.
    struct Pending {
      std::size_t line = 0;
      spec::Op op;
      std::optional<spec::Cpu> cpu;
    };

    bool fail_input(std::size_t line, std::string problem) {
      r_.result_.error = TraceError{r_.trace_.file, line, std::move(problem)};
      stopped_ = true;
      return false;
    }

    bool line(const TraceOp& trace_op) {
      const std::size_t at = trace_op.line;
      std::vector<RaceRunner::Outcome> outcomes;
      Pending p;
      if (trace_op.resume) {
        auto it = pending_.find(trace_op.id);
        if (it == pending_.end())
          return fail_input(at, fmt::format("resume \"{}\": no operation is preempted under that "
                                            "name",
                                            trace_op.id));
        p = it->second;
        pending_.erase(it);
      } else {
        auto resolved = driver_.resolve(trace_op, r_.trace_.names);
        if (!resolved.op) return fail_input(at, resolved.problem);
        p = Pending{at, *resolved.op, driver_.runs_on(*resolved.op)};
        if (auto problem = conflict(trace_op, p); !problem.empty()) return fail_input(at, problem);
      }
      for (std::size_t i = 0; i < runners_.size(); ++i) {
        try {
          outcomes.push_back(trace_op.resume ? runners_[i]->resume(trace_op.id, trace_op.preempt)
                                             : runners_[i]->start(p.line, p.op, p.cpu,
                                                                  trace_op.preempt, trace_op.id));
        } catch (const std::exception& e) {
          r_.result_.model_failure = ModelFailure{at, r_.models_[i].name, e.what()};
          stopped_ = true;
          return false;
        }
      }
      if (!agree(at, p, outcomes)) return false;
      const auto& outcome = outcomes.front();
      if (outcome.blocked)
        return fail_input(at, fmt::format("{} would wait for a lock held by {}",
                                          spec::op_name(p.op), outcome.blocked_on));
      if (outcome.paused) {
        pending_[trace_op.id] = p;
      } else {
        if (trace_op.preempt)
          return fail_input(at, fmt::format("{} (line {}) finished without reaching {} (hit {})",
                                            spec::op_name(p.op), p.line,
                                            spec::preempt_point_name(trace_op.preempt->point),
                                            trace_op.preempt->hit));
        r_.result_.steps.push_back(StepRecord{p.line, p.op, p.cpu, outcome.result});
        driver_.observe(p.op, outcome.result, p.line);
        completed_.push_back({p.op, outcome.result});
      }
      spec::Snapshot after;
      if (!r_.snapshot_all(at, after)) return stopped_ = true, false;
      r_.result_.snapshot = after;
      for (std::size_t i = 0; i < runners_.size(); ++i)
        if (const auto& race = runners_[i]->data_race()) {
          r_.result_.data_race =
              RaceRecord{at, r_.models_[i].name, race->message("a deferred work item", "line")};
          stopped_ = true;
          return false;
        }
      if (pending_.empty()) check_quiescent(at, std::move(after));
      return true;
    }

    // What the trace may not ask while operations are stopped: it could not
    // happen (a CPU runs one operation at a time, a task is single-threaded,
    // cgroup_mutex is a sleeping lock), or it would block.
    std::string conflict(const TraceOp& trace_op, const Pending& p) const {
      if (!trace_op.preempt && !trace_op.id.empty())
        return "\"id\" names a preempted operation: give \"preempt_at\" too";
      if (trace_op.preempt && pending_.count(trace_op.id))
        return fmt::format("\"{}\" already names the operation preempted at line {}",
                           trace_op.id, pending_.at(trace_op.id).line);
      for (const auto& [id, other] : pending_) {
        if (std::holds_alternative<spec::CpuOffline>(p.op))
          return fmt::format("cpu_offline while the operation at line {} is preempted", other.line);
        if (p.cpu && other.cpu == p.cpu)
          return fmt::format("CPU {} is running the operation preempted at line {}", *p.cpu,
                             other.line);
        if (takes_cgroup_mutex(p.op) && takes_cgroup_mutex(other.op))
          return fmt::format("cgroup_mutex is held by the operation preempted at line {}",
                             other.line);
        if (auto task = task_of(other.op); task && task == task_of(p.op) &&
                                           !std::holds_alternative<spec::Migrate>(p.op))
          return fmt::format("task \"{}\" is in the operation preempted at line {}",
                             r_.trace_.names.tasks.name(*task), other.line);
        if (auto obj = object_of(other.op); obj && obj == object_of(p.op))
          return fmt::format("object \"{}\" is in the operation preempted at line {}",
                             r_.trace_.names.objects.name(*obj), other.line);
      }
      return {};
    }

    static bool takes_cgroup_mutex(const spec::Op& op) {
      return std::holds_alternative<spec::Mkdir>(op) || std::holds_alternative<spec::Rmdir>(op) ||
             std::holds_alternative<spec::Spawn>(op) || std::holds_alternative<spec::Exit>(op) ||
             std::holds_alternative<spec::Migrate>(op) ||
             std::holds_alternative<spec::DrainAll>(op) || std::holds_alternative<spec::SetMax>(op);
    }
    static std::optional<spec::TaskKey> task_of(const spec::Op& op) {
      return std::visit(spec::Overloaded{
                            [](const spec::Spawn& o) -> std::optional<spec::TaskKey> { return o.task; },
                            [](const spec::Exit& o) -> std::optional<spec::TaskKey> { return o.task; },
                            [](const spec::Migrate& o) -> std::optional<spec::TaskKey> { return o.task; },
                            [](const spec::RunOn& o) -> std::optional<spec::TaskKey> { return o.task; },
                            [](const spec::Alloc& o) -> std::optional<spec::TaskKey> { return o.task; },
                            [](const auto&) -> std::optional<spec::TaskKey> { return std::nullopt; },
                        },
                        op);
    }

    bool agree(std::size_t at, const Pending& p, const std::vector<RaceRunner::Outcome>& outcomes) {
      auto text = [](const RaceRunner::Outcome& o) {
        if (o.paused) return std::string("stopped at its preemption point");
        if (o.blocked) return std::string("blocked");
        return fmt::format("finished ({})", spec::errno_name(o.result));
      };
      for (std::size_t i = 1; i < outcomes.size(); ++i) {
        if (text(outcomes[i]) == text(outcomes[0])) continue;
        r_.result_.disagreement =
            Disagreement{at, fmt::format("{} (line {}): {} {}, {} {}", spec::op_name(p.op), p.line,
                                         r_.models_[0].name, text(outcomes[0]),
                                         r_.models_[i].name, text(outcomes[i]))};
        stopped_ = true;
        return false;
      }
      return true;
    }

    // Every invariant, from the last quiescent line to this one. When several
    // operations completed in between, the step's operation is unknown to the
    // checkers, except a nofail alloc, whose forced charge they must know of.
    void check_quiescent(std::size_t at, spec::Snapshot after) {
      const spec::Op* op = nullptr;
      spec::Errno result = spec::Errno::ok;
      if (completed_.size() == 1) {
        op = &completed_.front().first;
        result = completed_.front().second;
      } else {
        for (const auto& [done, r] : completed_)
          if (const auto* a = std::get_if<spec::Alloc>(&done); a && a->nofail) op = &done;
      }
      r_.record_violations(at, monitor_.check(spec::Step{&quiescent_, op, result, &after}));
      quiescent_ = std::move(after);
      completed_.clear();
    }

    Replayer& r_;
    spec::Monitor& monitor_;
    Driver& driver_;
    spec::Snapshot quiescent_;
    std::vector<std::unique_ptr<RaceRunner>> runners_;
    std::map<std::string, Pending> pending_;
    std::vector<std::pair<spec::Op, spec::Errno>> completed_;
    bool stopped_ = false;
  };

  const Trace& trace_;
  ReplayResult& result_;
  ReplayProgress* progress_;
  std::vector<NamedModel> models_;
  std::unique_ptr<spec::IncrementalState> state_;  // null: checked in full
  bool disagreement_snapshot_ = false;  // result_.snapshot is the disagreeing state
  bool tracks_changes_ = false;         // the one model's take_changes() is used
};

}  // namespace

void ReplayProgress::at(std::size_t at_line, std::string_view who, std::string_view what) {
  line = at_line;
  auto copy = [](std::string_view from, char* to, std::size_t size) {
    const std::size_t n = std::min(from.size(), size - 1);
    std::memcpy(to, from.data(), n);
    to[n] = '\0';
  };
  copy(who, model, sizeof model);
  copy(what, doing, sizeof doing);
  beats.fetch_add(1, std::memory_order_release);
}

ReplayResult replay(const Trace& trace, ModelChoice choice, spec::Mutant mutant,
                    std::shared_ptr<const kernel::KernelSubject> kernel, ReplayProgress* progress) {
  if (uses_impl(choice) && !impl_available())
    throw std::invalid_argument(
        "this build has no impl model (impl/*.cc were absent at configure time); use "
        "--model reference");
  if (uses_kernel(choice) && !kernel) kernel = kernel::KernelSubject::open({});
  std::vector<NamedModel> models;
  if (trace.has_config) {
    if (progress) progress->at(1, model_choice_name(choice), "being made");
    try {
      models = make_models(trace, choice, mutant, kernel.get());
    } catch (const std::exception& e) {
      ReplayResult result;
      result.model = choice;
      result.model_failure = ModelFailure{1, std::string(model_choice_name(choice)), e.what()};
      if (kernel) result.kernel = kernel->description();
      return result;
    }
  }
  auto result = replay_models(trace, std::move(models), choice, progress);
  if (kernel) result.kernel = kernel->description();
  return result;
}

ReplayResult replay_models(const Trace& trace, std::vector<NamedModel> models, ModelChoice label,
                           ReplayProgress* progress) {
  ReplayResult result;
  result.model = label;
  result.profile = trace.config.profile;
  if (!trace.has_config) {
    result.error = trace.error;
    return result;
  }
  if (models.empty()) throw std::invalid_argument("replay_models: no model");
  Replayer(trace, result, progress).run(std::move(models));
  return result;
}

}  // namespace mv::trace
