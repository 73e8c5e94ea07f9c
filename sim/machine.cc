#include "sim/machine.h"

#include <cmath>
#include <exception>

#include <fmt/format.h>

#include "reference/model.h"
#include "trace/trace_writer.h"

namespace mv::sim {

using spec::AllocKind;
using spec::Errno;

std::uint64_t LiveTotals::packed_slab_bytes(std::uint64_t page_size_bytes) const {
  std::uint64_t bytes = 0;
  for (const auto& [name, count] : slab_objects) {
    const auto& cache = caches.at(name);
    std::uint64_t slabs = (count + cache.objects_per_slab - 1) / cache.objects_per_slab;
    bytes += slabs * cache.pages_per_slab * page_size_bytes;
  }
  return bytes;
}

std::string clock_text(double seconds) {
  auto s = static_cast<std::uint64_t>(std::floor(seconds));
  return fmt::format("day {} {:02}:{:02}:{:02}", s / 86400 + 1, s % 86400 / 3600, s % 3600 / 60,
                     s % 60);
}

Machine::Machine(const spec::Config& config, bool record)
    : config_(config), model_(reference::make_reference_model(config, paths_)), record_(record) {}

Machine::~Machine() = default;

std::string Machine::where() const {
  return fmt::format("{} (profile {})", clock_text(clock_seconds_),
                     spec::profile_name(config_.profile));
}

Errno Machine::apply(const spec::Op& op) {
  ++ops_;
  if (record_) recorded_.push_back(op);
  try {
    return model_->apply(op);
  } catch (const std::exception& e) {
    auto what = fmt::format("{}: the reference model failed on {}: {}", where(), spec::op_name(op),
                            e.what());
    throw SimError(what, record_ ? trace_jsonl(what) : std::string());
  }
}

void Machine::expect_ok(const spec::Op& op, std::string_view what) {
  auto result = apply(op);
  if (result != Errno::ok) {
    auto message = fmt::format("{}: {} answered {} (the workload expects it to succeed)", where(),
                               what, spec::errno_name(result));
    throw SimError(message, record_ ? trace_jsonl(message) : std::string());
  }
}

std::string Machine::trace_jsonl(const std::string& note) const {
  trace::TraceNames names;
  names.paths = paths_;
  for (spec::TaskKey t = 0; t < next_task_; ++t) names.tasks.intern(fmt::format("t{}", t));
  for (spec::ObjKey o = 0; o < next_obj_; ++o) names.objects.intern(fmt::format("o{}", o));
  std::string out = trace::trace_header_json(config_, "simulate: " + note).dump() + "\n";
  for (std::size_t i = 0; i < recorded_.size(); ++i) {
    trace::TraceOp line;
    line.line = i + 2;
    line.op = recorded_[i];
    line.cpu_given = true;  // every operation's CPU as the machine gave it
    out += trace::trace_line_json(line, names).dump() + "\n";
  }
  return out;
}

spec::PathKey Machine::cgroup(std::string_view path) {
  auto key = paths_.intern(path);
  if (!key) throw std::invalid_argument(fmt::format("malformed cgroup path \"{}\"", path));
  return *key;
}

void Machine::mkdir(spec::PathKey cg) {
  expect_ok(spec::Mkdir{cg}, fmt::format("mkdir {}", paths_.path(cg)));
}

void Machine::rmdir(spec::PathKey cg) {
  expect_ok(spec::Rmdir{cg}, fmt::format("rmdir {}", paths_.path(cg)));
}

spec::TaskKey Machine::spawn(spec::PathKey cg, spec::Cpu cpu) {
  spec::TaskKey task = next_task_++;
  expect_ok(spec::Spawn{task, cg, cpu}, fmt::format("spawn in {}", paths_.path(cg)));
  tasks_[task] = cpu;
  return task;
}

void Machine::exit(spec::TaskKey task) {
  expect_ok(spec::Exit{task}, "exit");
  tasks_.erase(task);
}

void Machine::migrate(spec::TaskKey task, spec::PathKey cg) {
  expect_ok(spec::Migrate{task, cg}, fmt::format("migrate to {}", paths_.path(cg)));
}

spec::Cpu Machine::task_cpu(spec::TaskKey task) const { return tasks_.at(task); }

spec::ObjKey Machine::alloc(const spec::Alloc& op, std::string_view what) {
  expect_ok(op, what);
  objects_[op.obj] = ObjectInfo{op.kind, static_cast<std::uint32_t>(op.size_bytes), {}};
  live_.objects += 1;
  return op.obj;
}

spec::ObjKey Machine::alloc_slab(spec::TaskKey task, const SlabCache& cache) {
  spec::Alloc op{task, next_obj_++, AllocKind::slab, cache.object_size_bytes};
  auto obj = alloc(op, fmt::format("alloc of a {} object", cache.name));
  objects_[obj].cache = cache.name;
  live_.caches.try_emplace(cache.name, cache);
  live_.slab_objects[cache.name] += 1;
  return obj;
}

spec::ObjKey Machine::alloc_percpu(spec::TaskKey task, std::uint32_t size_bytes) {
  spec::Alloc op{task, next_obj_++, AllocKind::percpu, size_bytes};
  auto obj = alloc(op, "alloc_percpu");
  live_.percpu_bytes += std::uint64_t{size_bytes} * config_.ncpus;
  return obj;
}

spec::ObjKey Machine::alloc_page(spec::TaskKey task, std::uint32_t order) {
  spec::Alloc op{task, next_obj_++, AllocKind::page, 0, order};
  return alloc(op, "alloc_pages");
}

spec::ObjKey Machine::alloc_stack(spec::TaskKey task) {
  spec::Alloc op{task, next_obj_++, AllocKind::stack};
  return alloc(op, "kernel stack");
}

void Machine::free(spec::ObjKey obj, spec::Cpu cpu) {
  auto it = objects_.find(obj);
  if (it == objects_.end()) throw std::logic_error("free of an object the machine does not hold");
  expect_ok(spec::Free{obj, cpu}, "free");
  if (it->second.kind == AllocKind::slab) {
    auto count = live_.slab_objects.find(it->second.cache);
    if (--count->second == 0) live_.slab_objects.erase(count);
  }
  if (it->second.kind == AllocKind::percpu)
    live_.percpu_bytes -= std::uint64_t{it->second.size_bytes} * config_.ncpus;
  live_.objects -= 1;
  objects_.erase(it);
}

void Machine::settle() { expect_ok(spec::Quiesce{}, "quiesce"); }

}  // namespace mv::sim
