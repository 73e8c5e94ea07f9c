// The live experiments (docs/SIMULATE.md "live"): each builds its cgroups in
// the scope, removes them, and reads how many stay dying over time.
//
// - stack_loop: seed 004's loop, charging only kernel memory to the removed
//   cgroup. A helper process's worker thread moves into child i (v1: the
//   thread alone, through `tasks`, so the process's user pages stay charged
//   to the helper's own cgroup, where its mm owner is; v2 moves the whole
//   process, its memory faulted in beforehand), creates a thread there (its
//   kernel stack and task_struct are charged to child i), and both move out
//   before child i is removed. The threads live until the release.
// - user_pages_control: the same loop, but the helper's main thread (its mm
//   owner) faults user pages in while in child i and keeps them mapped until
//   the release: user pages hold their memcg in every kernel, so each removed
//   child stays dying until then. It shows that the counting sees dying
//   cgroups where they exist.
// - kmem_dead_cgroups: the kselftest test_kmem_dead_cgroups idea: a process
//   per child allocates negative dentries there and exits; the children are
//   removed and must stop dying once nothing but their objects is left.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "live/scope.h"

namespace mv::live {

// How many cgroups of the experiment are dying right now. v2: the
// experiment directory's cgroup.stat; v1: /proc/cgroups' num_cgroups for the
// memory hierarchy (the whole machine's), less the cgroups of the scope that
// exist and less the count when the experiment started; the median of three
// reads, since other users of a shared machine make and remove cgroups too.
class DyingCounter {
 public:
  virtual ~DyingCounter() = default;
  virtual std::int64_t dying() = 0;
  // How far the count may be off from other users of the hierarchy.
  virtual std::int64_t tolerance() const = 0;
};

struct Reading {
  std::string phase;  // "before", "after rmdir", "after release"
  double t_seconds = 0;  // since the phase began
  std::int64_t dying = 0;
};

// Bytes charged to the children before they were removed, summed: kernel
// memory (v1 memory.kmem.usage_in_bytes, v2 memory.stat "kernel") and user
// pages (v1 memory.stat rss + cache, v2 anon + file).
struct Charged {
  std::optional<std::int64_t> kernel_bytes;
  std::int64_t user_bytes = 0;
};

struct Measured {
  std::string name;
  std::uint32_t cgroups = 0;
  std::vector<Reading> series;
  std::int64_t dying_after_rmdir = 0;    // once the count settled
  std::optional<std::int64_t> dying_after_release;
  Charged charged;
  std::int64_t tolerance = 0;
};

struct ExperimentSizes {
  std::uint32_t stack_loop = 16;
  std::uint32_t user_pages_control = 8;
  std::uint32_t user_pages_per_cgroup = 64;
  std::uint32_t kmem_dead_cgroups = 8;
  std::uint32_t dentries_per_cgroup = 100;
  double settle_max_seconds = 5;
};

Measured run_stack_loop(Scope& scope, const ExperimentSizes& sizes);
Measured run_user_pages_control(Scope& scope, const ExperimentSizes& sizes);
Measured run_kmem_dead_cgroups(Scope& scope, const ExperimentSizes& sizes);

}  // namespace mv::live
