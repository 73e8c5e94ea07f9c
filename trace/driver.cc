#include "trace/driver.h"

#include <fmt/format.h>

#include "spec/overloaded.h"

namespace mv::trace {

namespace {

Resolved ok(spec::Op op) { return Resolved{std::move(op), {}}; }
Resolved refuse(std::string problem) { return Resolved{std::nullopt, std::move(problem)}; }
}  // namespace

Driver::Driver(const spec::Config& config) : cpus_(config.ncpus) {}

spec::Cpu Driver::default_cpu() const {
  if (cpu_online(spec::kDefaultCpu)) return spec::kDefaultCpu;
  for (spec::Cpu cpu = 0; cpu < cpus_.size(); ++cpu)
    if (cpus_[cpu].online) return cpu;
  return spec::kDefaultCpu;  // unreachable: the last online CPU cannot go offline
}

std::optional<spec::Cpu> Driver::task_cpu(spec::TaskKey key) const {
  const auto* t = task(key);
  if (!t || !t->live) return std::nullopt;
  return t->cpu;
}

bool Driver::object_live(spec::ObjKey key) const {
  const auto* o = object(key);
  return o && o->live;
}

std::optional<spec::Cpu> Driver::runs_on(const spec::Op& op) const {
  using Result = std::optional<spec::Cpu>;
  return std::visit(spec::Overloaded{
                        [&](const spec::Alloc& o) -> Result { return task_cpu(o.task); },
                        [&](const spec::Exit& o) -> Result { return task_cpu(o.task); },
                        [](const spec::Quiesce&) -> Result { return std::nullopt; },
                        [](const auto& o) -> Result { return o.cpu; },
                    },
                    op);
}

const Driver::TaskState* Driver::task(spec::TaskKey key) const {
  return key < tasks_.size() ? &tasks_[key] : nullptr;
}

const Driver::ObjectState* Driver::object(spec::ObjKey key) const {
  return key < objects_.size() ? &objects_[key] : nullptr;
}

Driver::TaskState& Driver::task_slot(spec::TaskKey key) {
  if (key >= tasks_.size()) tasks_.resize(key + 1);
  return tasks_[key];
}

Driver::ObjectState& Driver::object_slot(spec::ObjKey key) {
  if (key >= objects_.size()) objects_.resize(key + 1);
  return objects_[key];
}

std::string Driver::cpu_problem(spec::Cpu cpu) const {
  if (cpu >= cpus_.size())
    return fmt::format("CPU {} is out of range (the trace has {} CPUs: 0-{})", cpu, cpus_.size(),
                       cpus_.size() - 1);
  if (!cpus_[cpu].online)
    return fmt::format("CPU {} is offline (cpu_offline at line {})", cpu, cpus_[cpu].offlined_line);
  return {};
}

std::string Driver::live_task_problem(spec::TaskKey key, const TraceNames& names) const {
  const auto* t = task(key);
  const auto& name = names.tasks.name(key);
  if (!t || t->generation == 0) return fmt::format("unknown task \"{}\" (never spawned)", name);
  if (!t->live) return fmt::format("task \"{}\" has exited (line {})", name, t->exited_line);
  return {};
}

std::string Driver::live_object_problem(spec::ObjKey key, const TraceNames& names) const {
  const auto* o = object(key);
  const auto& name = names.objects.name(key);
  if (!o || o->allocated_line == 0)
    return fmt::format("unknown object \"{}\" (never allocated)", name);
  if (!o->live) return fmt::format("double free of object \"{}\" (freed at line {})", name, o->freed_line);
  return {};
}

Resolved Driver::resolve_free(spec::Free op, bool cpu_given, const TraceNames& names) const {
  if (auto problem = live_object_problem(op.obj, names); !problem.empty()) return refuse(problem);
  if (cpu_given) {
    if (auto problem = cpu_problem(op.cpu); !problem.empty()) return refuse(problem);
    return ok(op);
  }
  // Without "cpu" the free runs where the allocating task runs now.
  const auto& o = objects_[op.obj];
  const auto* t = task(o.task);
  if (!t || !t->live || t->generation != o.task_generation)
    return refuse(fmt::format(
        "free of object \"{}\" gives no \"cpu\" and its allocating task \"{}\" has exited",
        names.objects.name(op.obj), names.tasks.name(o.task)));
  op.cpu = t->cpu;
  return ok(op);
}

Resolved Driver::resolve(const TraceOp& line, const TraceNames& names) const {
  // mkdir, rmdir, drain_all, set_max: the op's CPU, else the default CPU.
  auto on_cpu = [&](auto op) {
    if (!line.cpu_given) op.cpu = default_cpu();
    if (auto problem = cpu_problem(op.cpu); !problem.empty()) return refuse(problem);
    return ok(op);
  };
  auto checked = [&](std::initializer_list<std::string> problems, const spec::Op& op) {
    for (const auto& problem : problems)
      if (!problem.empty()) return refuse(problem);
    return ok(op);
  };
  return std::visit(
      spec::Overloaded{
          [&](const spec::Mkdir& op) { return on_cpu(op); },
          [&](const spec::Rmdir& op) { return on_cpu(op); },
          [&](const spec::DrainAll& op) { return on_cpu(op); },
          [&](const spec::SetMax& op) { return on_cpu(op); },
          [&](const spec::Spawn& op) {
            const auto* t = task(op.task);
            if (t && t->live)
              return refuse(fmt::format("task \"{}\" is already running (spawned at line {})",
                                        names.tasks.name(op.task), t->spawned_line));
            return checked({cpu_problem(op.cpu)}, op);
          },
          [&](const spec::Exit& op) { return checked({live_task_problem(op.task, names)}, op); },
          [&](spec::Migrate op) {
            if (auto problem = live_task_problem(op.task, names); !problem.empty())
              return refuse(problem);
            // Without "cpu" the migration runs on the task's CPU, as before
            // there was a "cpu" (even an offline one: the task still moves).
            if (!line.cpu_given) {
              op.cpu = tasks_[op.task].cpu;
              return checked({}, op);
            }
            return checked({cpu_problem(op.cpu)}, op);
          },
          [&](const spec::RunOn& op) {
            return checked({live_task_problem(op.task, names), cpu_problem(op.cpu)}, op);
          },
          [&](const spec::Alloc& op) {
            if (auto problem = live_task_problem(op.task, names); !problem.empty())
              return refuse(problem);
            if (const auto* o = object(op.obj); o && o->live)
              return refuse(fmt::format("object \"{}\" is already allocated (line {})",
                                        names.objects.name(op.obj), o->allocated_line));
            // A kmem_cache has one object size (s->size), fixed when it is created.
            if (op.cache && *op.cache < caches_.size() && caches_[*op.cache].line != 0 &&
                caches_[*op.cache].size_bytes != op.size_bytes)
              return refuse(fmt::format(
                  "kmem_cache \"{}\" has objects of {} bytes (line {}), not {}",
                  names.caches.name(*op.cache), caches_[*op.cache].size_bytes,
                  caches_[*op.cache].line, op.size_bytes));
            return ok(op);
          },
          [&](const spec::Free& op) { return resolve_free(op, line.cpu_given, names); },
          [&](const spec::Drain& op) { return checked({cpu_problem(op.cpu)}, op); },
          [&](const spec::CpuOffline& op) {
            // Offlining an offline CPU is the kernel's EINVAL, not a trace error.
            if (op.cpu >= cpus_.size()) return refuse(cpu_problem(op.cpu));
            return ok(op);
          },
          [&](const spec::Quiesce& op) { return ok(op); },
      },
      line.op);
}

void Driver::observe(const spec::Op& op, spec::Errno result, std::size_t line) {
  // The first allocation naming a cache fixes its object size, whatever the result.
  if (const auto* alloc = std::get_if<spec::Alloc>(&op); alloc && alloc->cache) {
    if (caches_.size() <= *alloc->cache) caches_.resize(*alloc->cache + 1);
    auto& cache = caches_[*alloc->cache];
    if (cache.line == 0) cache = {alloc->size_bytes, line};
  }
  if (result != spec::Errno::ok) return;  // a refused operation changes nothing here
  std::visit(spec::Overloaded{
                 [&](const spec::Spawn& o) {
                   auto& t = task_slot(o.task);
                   t.live = true;
                   t.cpu = o.cpu;
                   ++t.generation;
                   t.spawned_line = line;
                 },
                 [&](const spec::Exit& o) {
                   auto& t = task_slot(o.task);
                   t.live = false;
                   t.exited_line = line;
                 },
                 [&](const spec::RunOn& o) { task_slot(o.task).cpu = o.cpu; },
                 [&](const spec::Alloc& o) {
                   auto& obj = object_slot(o.obj);
                   obj.live = true;
                   obj.task = o.task;
                   obj.task_generation = task_slot(o.task).generation;
                   obj.allocated_line = line;
                 },
                 [&](const spec::Free& o) {
                   auto& obj = object_slot(o.obj);
                   obj.live = false;
                   obj.freed_line = line;
                 },
                 [&](const spec::CpuOffline& o) {
                   cpus_[o.cpu].online = false;
                   cpus_[o.cpu].offlined_line = line;
                   // docs/MODEL-v6.6.md: tasks on it move to the lowest online CPU.
                   auto target = default_cpu();
                   for (spec::Cpu cpu = 0; cpu < cpus_.size(); ++cpu)
                     if (cpus_[cpu].online) { target = cpu; break; }
                   for (auto& t : tasks_)
                     if (t.live && t.cpu == o.cpu) t.cpu = target;
                 },
                 [](const auto&) {},
             },
             op);
}

}  // namespace mv::trace
