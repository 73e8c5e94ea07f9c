#include "properties/conformance.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "impl/model.h"
#include "overlay/overlay.h"
#include "properties/campaign_heartbeat.h"
#include "reference/model.h"
#include "trace/snapshot_diff.h"
#include "spec/overloaded.h"

namespace mv::properties {

namespace {

std::string violations_text(const std::vector<spec::Violation>& found) {
  std::string text;
  for (const auto& v : found) text += fmt::format("{}{}: {}", text.empty() ? "" : "; ", v.invariant, v.message);
  return text;
}

}  // namespace

ModelFactory impl_factory(spec::Mutant mutant) {
  return [mutant](const spec::Config& config, const spec::PathTable& paths) {
    return impl::make_impl_model(config, paths, mutant);
  };
}

ModelFactory reference_factory() {
  return [](const spec::Config& config, const spec::PathTable& paths) {
    return reference::make_reference_model(config, paths);
  };
}

ModelFactory overlay_factory(spec::Mutant mutant) {
  return [mutant](const spec::Config& config, const spec::PathTable& paths) {
    return overlay::make_overlay_model(config, paths, mutant);
  };
}

namespace {

// The model in the reference's seat: the reference, or the impl with a mutant
// (Conformance's reference_seat_mutant), or the reference with an overlay.
std::unique_ptr<spec::Model> make_reference_seat(const spec::Config& config,
                                                 const spec::PathTable& paths, spec::Mutant mutant) {
  if (mutant == spec::Mutant::none) return reference::make_reference_model(config, paths);
  if (overlay::is_overlay(mutant)) return overlay::make_overlay_model(config, paths, mutant);
  return impl::make_impl_model(config, paths, mutant);
}

}  // namespace

Conformance::Conformance(const spec::Config& config, const ModelFactory& subject,
                         std::string subject_name, CheckMode mode, spec::Mutant reference_seat_mutant)
    : config_(config),
      mode_(mode),
      names_(std::make_unique<trace::TraceNames>()),
      subject_name_(std::move(subject_name)),
      reference_(make_reference_seat(config, names_->paths, reference_seat_mutant)),
      subject_(subject(config, names_->paths)),
      reference_monitor_(config, &names_->paths),
      subject_monitor_(config, &names_->paths),
      driver_(config),
      totals_(config.page()) {
  for (const auto& path : path_pool()) pool_keys_.push_back(*names_->paths.intern(path));
  if (!snapshot_both(1, reference_before_, subject_before_)) return;
  monitor_both(nullptr, spec::Errno::ok, reference_before_, subject_before_, 1, {});
}

void Conformance::fail(std::size_t line, std::string kind, std::string message) {
  if (!failure_) failure_ = StepFailure{line, std::move(kind), std::move(message), {}};
}

// The online CPU `index` picks (modulo their number), without listing them:
// every recipe resolved asks.
spec::Cpu Conformance::pick_online_cpu(std::uint32_t index) const {
  std::uint32_t online = 0;
  for (spec::Cpu cpu = 0; cpu < config_.ncpus; ++cpu) online += driver_.cpu_online(cpu);
  std::uint32_t nth = index % online;
  for (spec::Cpu cpu = 0;; ++cpu)
    if (driver_.cpu_online(cpu) && nth-- == 0) return cpu;
}

spec::TaskKey Conformance::new_task() {
  return names_->tasks.intern(fmt::format("t{}", names_->tasks.size()));
}

spec::ObjKey Conformance::new_object() {
  return names_->objects.intern(fmt::format("o{}", names_->objects.size()));
}

// The live object a free recipe names; with reparented_first, among those
// charged through a reparented objcg when there are any.
spec::ObjKey Conformance::pick_object(const OpRecipe& r) const {
  if (r.reparented_first) {
    std::vector<spec::ObjKey> reparented;
    for (auto obj : live_objects_) {
      const spec::ObjcgId id = object_objcg_[obj];
      if (id != 0 && id <= reference_before_.objcgs.size() &&
          reference_before_.objcgs[id - 1].state == spec::ObjcgState::reparented)
        reparented.push_back(obj);
    }
    if (!reparented.empty()) return reparented[r.object % reparented.size()];
  }
  return live_objects_[r.object % live_objects_.size()];
}

std::optional<trace::TraceOp> Conformance::resolve(const OpRecipe& r) {
  const spec::Cpu cpu = pick_online_cpu(r.cpu);
  const spec::PathKey cg = pool_keys_.at(r.path % pool_keys_.size());
  trace::TraceOp line;
  line.cpu_given = true;
  // mkdir, rmdir, drain_all, set_max: without "cpu" the driver picks the default CPU.
  auto own_cpu = [&] {
    line.cpu_given = r.cpu_given;
    return r.cpu_given ? cpu : spec::kDefaultCpu;
  };
  auto task = [&] { return live_tasks_[r.task % live_tasks_.size()]; };
  switch (r.kind) {
    case OpKind::mkdir: line.op = spec::Mkdir{cg, own_cpu()}; break;
    case OpKind::rmdir: line.op = spec::Rmdir{cg, own_cpu()}; break;
    case OpKind::drain_all: line.op = spec::DrainAll{cg, own_cpu()}; break;
    case OpKind::spawn: line.op = spec::Spawn{new_task(), cg, cpu}; break;
    case OpKind::exit:
      if (live_tasks_.empty()) return std::nullopt;
      line.op = spec::Exit{task()};
      break;
    case OpKind::migrate:
      if (live_tasks_.empty()) return std::nullopt;
      line.op = spec::Migrate{task(), cg};
      line.cpu_given = false;  // on the task's CPU, as the driver resolves it
      break;
    case OpKind::run_on:
      if (live_tasks_.empty()) return std::nullopt;
      line.op = spec::RunOn{task(), cpu};
      break;
    case OpKind::alloc: {
      if (live_tasks_.empty()) return std::nullopt;
      spec::Alloc a{task(), new_object(), r.alloc_kind};
      if (a.kind == spec::AllocKind::slab || a.kind == spec::AllocKind::percpu)
        a.size_bytes = r.size_bytes;
      if (a.kind == spec::AllocKind::page) a.order = r.order;
      a.nofail = r.nofail;
      line.op = a;
      break;
    }
    case OpKind::free: {
      if (live_objects_.empty()) return std::nullopt;
      spec::ObjKey obj = pick_object(r);
      // Without "cpu" a free runs on its allocating task's CPU: only while it lives.
      line.cpu_given = r.cpu_given || !task_live_[object_owner_[obj]];
      line.op = spec::Free{obj, line.cpu_given ? cpu : spec::kDefaultCpu};
      break;
    }
    case OpKind::drain: line.op = spec::Drain{cpu}; break;
    case OpKind::set_max: {
      spec::SetMax s{cg, std::nullopt, own_cpu()};
      if (!r.max_unlimited) {
        std::int64_t usage = 0;
        for (const auto& c : reference_before_.cgroups)
          if (c.path == cg && c.state == spec::CgroupState::online) usage = c.usage_pages;
        s.max_pages = static_cast<std::uint64_t>(std::max<std::int64_t>(0, usage + r.max_delta_pages));
      }
      line.op = s;
      break;
    }
    case OpKind::cpu_offline: line.op = spec::CpuOffline{r.cpu % config_.ncpus}; break;
    case OpKind::quiesce: line.op = spec::Quiesce{}; break;
  }
  return line;
}

const std::optional<StepFailure>& Conformance::run(const OpRecipe& recipe) {
  if (failure_) return failure_;
  recipes_.push_back(recipe);
  if (auto line = resolve(recipe)) run_line(std::move(*line));
  return failure_;
}

bool Conformance::apply_both(const spec::Op& op, std::size_t line, AppliedStep& step) {
  try {
    step.reference_result = reference_->apply(op);
  } catch (const std::exception& e) {
    fail(line, "model failure", fmt::format("the reference threw: {}", e.what()));
    return false;
  }
  try {
    step.subject_result = subject_->apply(op);
  } catch (const std::exception& e) {
    fail(line, "model failure", fmt::format("the {} threw: {}", subject_name_, e.what()));
    return false;
  }
  if (step.reference_result != step.subject_result) {
    fail(line, "disagreement",
         fmt::format("result: reference {}, {} {}", spec::errno_name(step.reference_result),
                     subject_name_, spec::errno_name(step.subject_result)));
    return false;
  }
  return true;
}

bool Conformance::snapshot_both(std::size_t line, spec::Snapshot& reference,
                                spec::Snapshot& subject) {
  try {
    if (mode_ == CheckMode::full) {
      reference = reference_->snapshot();
      subject = subject_->snapshot();
    } else {
      reference_->snapshot_without_objects_into(reference);
      subject_->snapshot_without_objects_into(subject);
    }
  } catch (const std::exception& e) {
    fail(line, "model failure", fmt::format("snapshot threw: {}", e.what()));
    return false;
  }
  if (reference == subject) return true;
  auto diff = trace::snapshot_difference(reference, subject, *names_, "reference", subject_name_);
  fail(line, "disagreement", diff ? *diff : std::string("snapshots differ"));
  return false;
}

// Summary mode: the object an alloc created or a free removed, the same in
// both models; the totals follow.
bool Conformance::compare_objects(std::size_t line, const spec::Op& op, spec::Errno result,
                                  const std::optional<spec::ObjectSnap>& freed,
                                  std::vector<spec::ObjectSnap>& created) {
  std::optional<spec::ObjKey> key;
  if (const auto* alloc = std::get_if<spec::Alloc>(&op)) key = alloc->obj;
  if (const auto* free = std::get_if<spec::Free>(&op)) key = free->obj;
  if (!key) return true;
  std::optional<spec::ObjectSnap> on_reference, on_subject;
  try {
    on_reference = reference_->live_object(*key);
    on_subject = subject_->live_object(*key);
  } catch (const std::exception& e) {
    fail(line, "model failure", fmt::format("live_object threw: {}", e.what()));
    return false;
  }
  if (on_reference != on_subject) {
    spec::Snapshot a, b;
    if (on_reference) a.objects.push_back(*on_reference);
    if (on_subject) b.objects.push_back(*on_subject);
    auto diff = trace::snapshot_difference(a, b, *names_, "reference", subject_name_);
    fail(line, "disagreement",
         fmt::format("object \"{}\": {}", names_->objects.name(*key),
                     diff ? *diff : std::string("entries differ")));
    return false;
  }
  const bool alloc_ok = std::holds_alternative<spec::Alloc>(op) && result == spec::Errno::ok;
  if (alloc_ok != on_reference.has_value()) {
    fail(line, "disagreement",
         fmt::format("object \"{}\" is {} after {} returned {}", names_->objects.name(*key),
                     on_reference ? "live" : "not live", spec::op_name(op),
                     spec::errno_name(result)));
    return false;
  }
  if (on_reference) {
    totals_.add(*on_reference);
    created.push_back(*on_reference);
  }
  if (freed && result == spec::Errno::ok) totals_.remove(*freed);
  return true;
}

const std::optional<StepFailure>& Conformance::verify_full() {
  if (failure_) return failure_;
  const std::size_t line = steps_.size() + 1;
  spec::Snapshot reference, subject;
  try {
    reference = reference_->snapshot();
    subject = subject_->snapshot();
  } catch (const std::exception& e) {
    fail(line, "model failure", fmt::format("snapshot threw: {}", e.what()));
    return failure_;
  }
  if (!(reference == subject)) {
    auto diff = trace::snapshot_difference(reference, subject, *names_, "reference", subject_name_);
    fail(line, "disagreement", fmt::format("full snapshots: {}", diff ? *diff : "differ"));
    return failure_;
  }
  if (mode_ == CheckMode::full) return failure_;
  if (!(spec::ObjectTotals::of(reference.objects, config_.page()) == totals_)) {
    fail(line, "disagreement",
         "the live objects' totals differ from those kept step by step: an object's entry "
         "changed outside its alloc and free");
    return failure_;
  }
  reference.objects.clear();
  if (!(reference == reference_before_))
    fail(line, "disagreement", "snapshot_without_objects() differs from snapshot() less its objects");
  return failure_;
}

bool Conformance::monitor_both(const spec::Op* op, spec::Errno result,
                               const spec::Snapshot& reference, const spec::Snapshot& subject,
                               std::size_t line, const std::vector<spec::ObjectSnap>& created) {
  const bool initial = op == nullptr;
  const spec::Step on_reference_step{initial ? nullptr : &reference_before_, op, result, &reference};
  const spec::Step on_subject_step{initial ? nullptr : &subject_before_, op, result, &subject};
  // Violations a design claim of the profile covers are the design's
  // documented result (spec/design_claims.h): counted, not failures, unless
  // the run looks for that claim.
  // Filtered in place: a violation a profile's known bug explains comes on
  // every step after it shows (spec/known_bug.h), a copy of the list each time
  // was a tenth of a step.
  auto on_reference =
      mode_ == CheckMode::full ? reference_monitor_.check(on_reference_step)
                               : reference_monitor_.check_summary(on_reference_step, totals_, created);
  for (const auto& v : on_reference) {
    if (!v.expected()) continue;
    auto& seen = claims_seen_[v.design_claim];
    if (seen.count++ == 0) seen.first_line = line;
  }
  std::erase_if(on_reference, [&](const spec::Violation& v) {
    return v.expected() && v.design_claim != fail_on_claim;
  });
  std::vector<spec::Violation> on_subject;
  if (monitor_subject || initial)
    on_subject = mode_ == CheckMode::full
                     ? subject_monitor_.check(on_subject_step)
                     : subject_monitor_.check_summary(on_subject_step, totals_, created);
  // A known kernel bug of the profile is a result, not a failure, unless the
  // run looks for it (a claimed violation the run looks for was kept above).
  for (const auto& v : on_reference)
    if (v.known()) ++known_violations_[v.known_bug];
  std::erase_if(on_reference, [&](const spec::Violation& v) {
    return v.known() && v.known_bug != fail_on_claim;
  });
  on_subject = spec::unexplained(on_subject);
  if (!on_reference.empty()) {
    fail(line, "violation", fmt::format("on the reference: {}", violations_text(on_reference)));
    failure_->subject_violations = on_subject;
    failure_->violations = on_reference;
    return false;
  }
  if (!on_subject.empty()) {
    fail(line, "violation", fmt::format("on the {}: {}", subject_name_, violations_text(on_subject)));
    failure_->subject_violations = on_subject;
    failure_->violations = on_subject;
    return false;
  }
  return true;
}

// Full mode: the step failed before the Monitors ran (results or snapshots
// differ); the subject's Monitor still checks the subject's own state, so a
// mutated subject's invariant violations are reported with the difference.
void Conformance::monitor_subject_after_failure(const AppliedStep& step) {
  if (!monitor_subject || mode_ != CheckMode::full || !failure_) return;
  try {
    const spec::Snapshot after = subject_->snapshot();
    failure_->subject_violations = spec::unexplained(subject_monitor_.check(
        spec::Step{&subject_before_, &step.op, step.subject_result, &after}));
  } catch (const std::exception&) {
    // The failure already says the subject threw.
  }
}

const std::optional<StepFailure>& Conformance::run_line(trace::TraceOp trace_op) {
  campaign_heartbeat();
  if (failure_) return failure_;
  const std::size_t line = steps_.size() + 2;  // line 1 is the header
  trace_op.line = line;
  auto resolved = driver_.resolve(trace_op, *names_);
  if (!resolved.op) {
    fail(line, "bad operation", fmt::format("the trace driver refuses it: {}", resolved.problem));
    return failure_;
  }
  AppliedStep step{trace_op, *resolved.op, driver_.runs_on(*resolved.op)};
  // Summary mode: the entry a free removes, while it is still there.
  std::optional<spec::ObjectSnap> freed;
  if (const auto* free = std::get_if<spec::Free>(&step.op); free && mode_ == CheckMode::summary)
    freed = reference_->live_object(free->obj);
  const bool applied = apply_both(step.op, line, step);
  steps_.push_back(step);
  if (!applied) {
    monitor_subject_after_failure(step);
    return failure_;
  }
  // Written over the snapshots of two steps ago: their storage is reused.
  spec::Snapshot& reference = reference_after_;
  spec::Snapshot& subject = subject_after_;
  if (!snapshot_both(line, reference, subject)) {
    monitor_subject_after_failure(step);
    return failure_;
  }
  std::vector<spec::ObjectSnap> created;
  if (mode_ == CheckMode::summary &&
      !compare_objects(line, step.op, step.reference_result, freed, created))
    return failure_;
  if (!monitor_both(&step.op, step.reference_result, reference, subject, line, created))
    return failure_;
  driver_.observe(step.op, step.reference_result, line);
  track(step.op, step.reference_result);
  std::swap(reference_before_, reference_after_);
  std::swap(subject_before_, subject_after_);
  if (full_check_interval != 0 && steps_.size() % full_check_interval == 0) verify_full();
  return failure_;
}

void Conformance::track(const spec::Op& op, spec::Errno result) {
  if (result != spec::Errno::ok) return;
  std::visit(spec::Overloaded{
                 [&](const spec::Spawn& o) {
                   live_tasks_.push_back(o.task);
                   if (task_live_.size() <= o.task) task_live_.resize(o.task + 1);
                   task_live_[o.task] = true;
                 },
                 [&](const spec::Exit& o) {
                   live_tasks_.erase(std::find(live_tasks_.begin(), live_tasks_.end(), o.task));
                   task_live_[o.task] = false;
                 },
                 [&](const spec::Alloc& o) {
                   if (object_slot_.size() <= o.obj) {
                     object_slot_.resize(o.obj + 1);
                     object_owner_.resize(o.obj + 1);
                     object_objcg_.resize(o.obj + 1);
                   }
                   object_slot_[o.obj] = static_cast<std::uint32_t>(live_objects_.size());
                   object_owner_[o.obj] = o.task;
                   auto created = reference_->live_object(o.obj);
                   object_objcg_[o.obj] = created && created->objcg ? *created->objcg : 0;
                   live_objects_.push_back(o.obj);
                 },
                 [&](const spec::Free& o) {
                   std::uint32_t slot = object_slot_[o.obj];
                   spec::ObjKey last = live_objects_.back();
                   live_objects_[slot] = last;
                   object_slot_[last] = slot;
                   live_objects_.pop_back();
                 },
                 [](const auto&) {},
             },
             op);
}

}  // namespace mv::properties
