#include "trace/replay.h"

#include <map>
#include <algorithm>
#include <cstring>
#include <memory>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "kernel/kernel_subject.h"
#include "reference/model.h"
#include "spec/known_bug.h"
#include "spec/model.h"
#include "trace/driver.h"
#include "trace/snapshot_diff.h"
#ifdef MV_HAVE_IMPL
#include "impl/model.h"
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
  for (const auto& v : violations) n += v.violation.known() ? 0 : 1;
  return n;
}

int ReplayResult::exit_code() const {
  if (error) return 2;
  if (model_failure || disagreement || nr_unexplained() != 0) return 1;
  return 0;
}

std::string ReplayResult::verdict() const {
  if (error) return fmt::format("BAD INPUT: {}", error->what());
  if (model_failure)
    return fmt::format("MODEL FAILURE at line {}: {} threw: {}", model_failure->line,
                       model_failure->model, model_failure->message);
  if (disagreement)
    return fmt::format("DISAGREEMENT at line {}: {}", disagreement->line, disagreement->message);
  if (const std::size_t n = nr_unexplained(); n != 0) {
    std::set<std::string> ids;
    for (const auto& v : violations)
      if (!v.violation.known()) ids.insert(v.violation.invariant);
    std::string list;
    for (const auto& id : ids) list += fmt::format("{}{}", list.empty() ? "" : ", ", id);
    return fmt::format("VIOLATED: {} violation{} ({}){}", n, n == 1 ? "" : "s", list,
                       known_text(", besides "));
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
  const auto reference_mutant = choice == ModelChoice::reference ? mutant : spec::Mutant::none;
  if (choice == ModelChoice::reference || choice == ModelChoice::both ||
      choice == ModelChoice::reference_kernel)
    models.push_back({"reference", reference::make_reference_model(trace.config, trace.names.paths,
                                                                   reference_mutant)});
#ifdef MV_HAVE_IMPL
  if (uses_impl(choice))
    models.push_back({"impl", impl::make_impl_model(trace.config, trace.names.paths, mutant)});
#endif
  if (uses_kernel(choice))
    models.push_back({"kernel", kernel->make_model(trace.config, trace.names.paths)});
  return models;
}

// Runs the lines; returns early on the first trace error, model failure or
// disagreement, leaving `result` with everything before it.
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
    if (!snapshot_all(line, before)) return;
    result_.snapshot = before;
    at(line, "checker", "checking the invariants");
    record_violations(line, monitor.check(spec::Step{nullptr, nullptr, spec::Errno::ok, &before}));
    for (const auto& trace_op : trace_.ops) {
      line = trace_op.line;
      auto resolved = driver.resolve(trace_op, trace_.names);
      if (!resolved.op) {
        result_.error = TraceError{trace_.file, line, resolved.problem};
        return;
      }
      const auto& op = *resolved.op;
      spec::Errno errno_result{};
      auto cpu = driver.runs_on(op);
      if (!apply_all(line, op, cpu, errno_result)) return;
      result_.steps.push_back(StepRecord{line, op, cpu, errno_result});
      spec::Snapshot after;
      if (!snapshot_all(line, after)) return;
      at(line, "checker", "checking the invariants");
      record_violations(line, monitor.check(spec::Step{&before, &op, errno_result, &after}));
      driver.observe(op, errno_result, line);
      before = std::move(after);
      result_.snapshot = before;
    }
    if (trace_.error) result_.error = trace_.error;
  }

 private:
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
        result_.disagreement =
            Disagreement{line, fmt::format("result: {} {}, {} {}", models_[0].name,
                                           spec::errno_name(out), models_[i].name,
                                           spec::errno_name(results[i]))};
        return false;
      }
    }
    return true;
  }

  // The first model's snapshot; the others must equal it.
  bool snapshot_all(std::size_t line, spec::Snapshot& out) {
    std::vector<spec::Snapshot> snaps;
    for (auto& m : models_) {
      at(line, m.name, "taking its snapshot");
      try {
        snaps.push_back(m.model->snapshot());
      } catch (const std::exception& e) {
        result_.model_failure = ModelFailure{line, m.name, e.what()};
        return false;
      }
    }
    out = snaps.front();
    for (std::size_t i = 1; i < snaps.size(); ++i) {
      if (auto diff = snapshot_difference(snaps[0], snaps[i], trace_.names, models_[0].name,
                                          models_[i].name)) {
        result_.snapshot = out;
        result_.disagreement = Disagreement{line, *diff};
        return false;
      }
    }
    return true;
  }

  void record_violations(std::size_t line, std::vector<spec::Violation> found) {
    for (auto& v : found) result_.violations.push_back(ViolationRecord{line, std::move(v)});
  }

  void at(std::size_t line, std::string_view who, std::string_view doing) {
    if (progress_) progress_->at(line, who, doing);
  }

  const Trace& trace_;
  ReplayResult& result_;
  ReplayProgress* progress_;
  std::vector<NamedModel> models_;
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
  if (!trace.has_config) {
    result.error = trace.error;
    return result;
  }
  if (models.empty()) throw std::invalid_argument("replay_models: no model");
  Replayer(trace, result, progress).run(std::move(models));
  return result;
}

}  // namespace mv::trace
