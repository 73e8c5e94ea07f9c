// The operation vocabulary: one struct per trace op (docs/TRACE_FORMAT.md).
// Names from a trace are interned by the driver: cgroups to PathKey, tasks to
// TaskKey, objects to ObjKey. The driver rejects names that do not exist (a
// trace error); everything the kernel itself could refuse is the model's result.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "spec/path_table.h"

namespace mv::spec {

using TaskKey = std::uint32_t;
using ObjKey = std::uint32_t;
using CacheKey = std::uint32_t;  // a kmem_cache named by the trace
using Cpu = std::uint32_t;

// Where an operation that names no task runs (a management process).
inline constexpr Cpu kDefaultCpu = 0;

enum class AllocKind : std::uint8_t {
  slab,    // an object of a kmem_cache whose object size is `size`
  percpu,  // `size` bytes on every possible CPU
  page,    // a kmem page allocation of `order`
  stack,   // a kernel stack (vmap: THREAD_SIZE / PAGE_SIZE order-0 pages)
};

struct Mkdir { PathKey cg; Cpu cpu = kDefaultCpu; };
struct Rmdir { PathKey cg; Cpu cpu = kDefaultCpu; };
struct Spawn { TaskKey task; PathKey cg; Cpu cpu; };
struct Exit { TaskKey task; };
// cpu is resolved by the driver: the op's cpu, else the task's CPU (a race
// trace migrates a task while it is preempted on its own CPU).
struct Migrate { TaskKey task; PathKey cg; Cpu cpu = kDefaultCpu; };
struct RunOn { TaskKey task; Cpu cpu; };
struct Alloc {
  TaskKey task;
  ObjKey obj;
  AllocKind kind;
  std::uint64_t size_bytes = 0;  // slab, percpu
  std::uint32_t order = 0;       // page
  bool nofail = false;           // __GFP_NOFAIL: forced past the limit
  // slab: the kmem_cache the object comes from. Objects of one cache share its
  // slab pages across cgroups and generations (which matters in the profiles
  // with memcg caches); nullopt: the cache of all unnamed objects of this size.
  std::optional<CacheKey> cache;
};
// cpu is resolved by the driver: the op's cpu, else the allocating task's CPU.
struct Free { ObjKey obj; Cpu cpu; };
struct Drain { Cpu cpu; };
struct DrainAll { PathKey cg; Cpu cpu = kDefaultCpu; };
// max_pages == nullopt is "max" (PAGE_COUNTER_MAX).
struct SetMax { PathKey cg; std::optional<std::uint64_t> max_pages; Cpu cpu = kDefaultCpu; };
struct CpuOffline { Cpu cpu; };
struct Quiesce {};

using Op = std::variant<Mkdir, Rmdir, Spawn, Exit, Migrate, RunOn, Alloc, Free, Drain, DrainAll,
                        SetMax, CpuOffline, Quiesce>;

// The trace name of an op ("mkdir", "drain_all", ...).
std::string_view op_name(const Op& op);
std::string_view alloc_kind_name(AllocKind kind);
std::optional<AllocKind> parse_alloc_kind(std::string_view name);

// What the kernel answered. Refusals are results, not trace errors.
enum class Errno : std::uint8_t { ok, ebusy, enoent, enomem, eexist, einval };
std::string_view errno_name(Errno err);  // "ok", "EBUSY", ...

}  // namespace mv::spec
