// The replay driver's own state: which tasks and objects a trace has made, and
// which CPUs are online. It turns a trace line into an operation a model can
// apply (resolving the CPU it runs on) or rejects it as a trace error: input
// that makes no sense whatever the model (docs/TRACE_FORMAT.md). It is
// model-independent: it learns only from the models' results.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "spec/operation.h"
#include "spec/profile.h"
#include "trace/names.h"
#include "trace/trace_reader.h"

namespace mv::trace {

// Either the operation to apply, or why the line makes no sense.
struct Resolved {
  std::optional<spec::Op> op;
  std::string problem;
};

class Driver {
 public:
  explicit Driver(const spec::Config& config);

  Resolved resolve(const TraceOp& line, const TraceNames& names) const;
  // Updates the state from what the model answered: a refused spawn or
  // allocation creates nothing.
  void observe(const spec::Op& op, spec::Errno result, std::size_t line);

  bool cpu_online(spec::Cpu cpu) const { return cpu < cpus_.size() && cpus_[cpu].online; }
  // Where an operation that names no CPU runs: kDefaultCpu, or the lowest
  // online CPU once kDefaultCpu is offline.
  spec::Cpu default_cpu() const;
  std::optional<spec::Cpu> task_cpu(spec::TaskKey task) const;
  bool object_live(spec::ObjKey obj) const;
  // The CPU a resolved operation runs on (docs/MODEL-v6.6.md "current CPU"): its
  // own, or its task's for alloc, exit and migrate; none for quiesce.
  std::optional<spec::Cpu> runs_on(const spec::Op& op) const;

 private:
  struct CpuState {
    bool online = true;
    std::size_t offlined_line = 0;
  };
  struct TaskState {
    bool live = false;
    spec::Cpu cpu = 0;
    std::uint32_t generation = 0;  // spawns of this name: tells a respawned task apart
    std::size_t spawned_line = 0;
    std::size_t exited_line = 0;
  };
  struct ObjectState {
    bool live = false;
    spec::TaskKey task = 0;  // the allocating task ...
    std::uint32_t task_generation = 0;  // ... in this incarnation
    std::size_t allocated_line = 0;
    std::size_t freed_line = 0;
  };

  std::string cpu_problem(spec::Cpu cpu) const;
  std::string live_task_problem(spec::TaskKey task, const TraceNames& names) const;
  std::string live_object_problem(spec::ObjKey obj, const TraceNames& names) const;
  Resolved resolve_free(spec::Free op, bool cpu_given, const TraceNames& names) const;
  const TaskState* task(spec::TaskKey key) const;
  const ObjectState* object(spec::ObjKey key) const;
  TaskState& task_slot(spec::TaskKey key);
  ObjectState& object_slot(spec::ObjKey key);

  struct CacheState {
    std::uint64_t size_bytes = 0;
    std::size_t line = 0;  // the first allocation naming it; 0: not seen
  };

  std::vector<CpuState> cpus_;
  std::vector<CacheState> caches_;  // by CacheKey
  std::vector<TaskState> tasks_;
  std::vector<ObjectState> objects_;
};

}  // namespace mv::trace
