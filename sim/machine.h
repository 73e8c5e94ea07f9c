// One simulated machine: the reference model of a profile (reference/), driven
// operation by operation by a workload. The machine interns the names the
// workload gives (cgroup paths, tasks, objects), applies each operation as the
// trace driver would, and keeps the totals of the memory the workload holds
// that the snapshot does not sum (live slab objects per cache, percpu bytes).
// Nothing here decides what a profile does: every effect comes from the model.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "spec/model.h"
#include "spec/operation.h"
#include "spec/path_table.h"
#include "spec/profile.h"
#include "spec/snapshot.h"

namespace mv::sim {

// The model refused something the workload never asks wrongly (an rmdir of an
// empty cgroup, an allocation with no limit set), or failed: the run stops.
// When the machine recorded its operations, `trace_jsonl` is the trace of the
// run up to and including the operation that failed (docs/TRACE_FORMAT.md),
// which `memcg-verify replay FILE --model reference` replays.
class SimError : public std::runtime_error {
 public:
  SimError(const std::string& what, std::string trace_jsonl = {})
      : std::runtime_error(what), trace_jsonl(std::move(trace_jsonl)) {}
  std::string trace_jsonl;
};

// A kmem_cache of the workload: the kernel cache it stands for, its object
// size and its slab geometry (objects per slab, pages per slab) as an x86_64
// 6.18 kernel's /proc/slabinfo shows them. The model charges by object size;
// the geometry only estimates the slab memory of caches shared by all cgroups.
struct SlabCache {
  std::string_view name;
  std::uint32_t object_size_bytes;
  std::uint32_t objects_per_slab;
  std::uint32_t pages_per_slab;
};

inline constexpr SlabCache kDentryCache{"dentry", 192, 21, 1};
inline constexpr SlabCache kInodeCache{"ext4_inode_cache", 1128, 14, 4};
inline constexpr SlabCache kTaskStructCache{"task_struct", 5952, 5, 8};
// A dentry's name longer than DNAME_INLINE_LEN: kmalloc'ed (accounted) beside it.
inline constexpr SlabCache kExternalNameCache{"kmalloc-cg-192", 192, 21, 1};

// The workload's live objects, summed as the memory they occupy.
struct LiveTotals {
  // Live objects per cache, by the cache's name.
  std::map<std::string_view, std::uint64_t> slab_objects;
  std::map<std::string_view, SlabCache> caches;
  std::uint64_t percpu_bytes = 0;  // size * CPUs of each live percpu object
  std::uint64_t objects = 0;
  // Whole slabs needed for the live objects when every cgroup's objects share
  // the cache's slabs (the objcg designs), in bytes: a packed lower bound.
  std::uint64_t packed_slab_bytes(std::uint64_t page_size_bytes) const;
};

class Machine {
 public:
  // std::invalid_argument if the profile has no reference model.
  // record: keep every operation applied, for the trace of a failure (the
  // runs are deterministic: a failed run is repeated with it).
  explicit Machine(const spec::Config& config, bool record = false);
  ~Machine();
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  const spec::Config& config() const { return config_; }
  // What a SimError says about when it happened ("day 3 07:12:05").
  void set_clock(double seconds) { clock_seconds_ = seconds; }
  double clock() const { return clock_seconds_; }

  spec::PathKey cgroup(std::string_view path);
  void mkdir(spec::PathKey cg);
  void rmdir(spec::PathKey cg);
  spec::TaskKey spawn(spec::PathKey cg, spec::Cpu cpu);
  void exit(spec::TaskKey task);
  void migrate(spec::TaskKey task, spec::PathKey cg);
  spec::Cpu task_cpu(spec::TaskKey task) const;

  spec::ObjKey alloc_slab(spec::TaskKey task, const SlabCache& cache);
  spec::ObjKey alloc_percpu(spec::TaskKey task, std::uint32_t size_bytes);
  spec::ObjKey alloc_page(spec::TaskKey task, std::uint32_t order);
  spec::ObjKey alloc_stack(spec::TaskKey task);
  // Frees a live object on `cpu` (its task may have exited).
  void free(spec::ObjKey obj, spec::Cpu cpu);

  // The workqueues and RCU callbacks run (the model's quiesce): what the kernel
  // does within milliseconds of an operation, before the next one a workload
  // that runs for seconds would make.
  void settle();

  // The model's state without its live objects (counts, cgroups, stocks).
  spec::Snapshot state() const { return model_->snapshot_without_objects(); }
  const LiveTotals& live() const { return live_; }
  std::uint64_t ops() const { return ops_; }

 private:
  struct ObjectInfo {
    spec::AllocKind kind;
    std::uint32_t size_bytes;
    std::string_view cache;  // slab
  };
  spec::Errno apply(const spec::Op& op);
  // The recorded operations as a trace; tasks and objects named by their keys.
  std::string trace_jsonl(const std::string& note) const;
  void expect_ok(const spec::Op& op, std::string_view what);
  spec::ObjKey alloc(const spec::Alloc& op, std::string_view what);
  std::string where() const;

  spec::Config config_;
  spec::PathTable paths_;
  std::unique_ptr<spec::Model> model_;
  std::unordered_map<spec::TaskKey, spec::Cpu> tasks_;
  std::unordered_map<spec::ObjKey, ObjectInfo> objects_;
  spec::TaskKey next_task_ = 0;
  spec::ObjKey next_obj_ = 0;
  LiveTotals live_;
  std::uint64_t ops_ = 0;
  double clock_seconds_ = 0;
  bool record_ = false;
  std::vector<spec::Op> recorded_;
};

// "day 3 07:12:05" for a simulated time in seconds (day 1 starts at 0).
std::string clock_text(double seconds);

}  // namespace mv::sim
