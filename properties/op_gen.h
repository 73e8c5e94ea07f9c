// Operation generation for the conformance properties. An operation is
// generated as a recipe (OpRecipe) that names tasks, objects, CPUs and cgroups
// BY INDEX into the lists that exist when it runs; the step runner
// (properties/conformance.h) resolves it against the live state. So a shrunk
// sequence, with commands removed, is still a valid trace: an index always
// lands on something that exists, and a recipe with nothing to act on is
// skipped. GenState is RapidCheck's model of that state (exact for cgroups,
// tasks and CPUs, an upper bound for objects: an alloc may fail with ENOMEM),
// used only to choose likely-useful recipes.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <rapidcheck.h>

#include "spec/operation.h"
#include "spec/profile.h"

namespace mv::properties {

enum class OpKind : std::uint8_t {
  mkdir, rmdir, spawn, exit, migrate, run_on, alloc, free, drain, drain_all, set_max,
  cpu_offline, quiesce,
};
inline constexpr std::size_t kNrOpKinds = 13;
std::string_view op_kind_name(OpKind kind);  // the trace op name

// The cgroup paths a run may create: few CPUs, many cgroups, three levels.
// Index 0 is the root "/".
const std::vector<std::string>& path_pool();
// The pool index of a path's parent (the root for a top-level path).
std::size_t path_pool_parent(std::size_t index);

struct OpRecipe {
  OpKind kind = OpKind::quiesce;
  std::uint32_t path = 0;    // path_pool() index: mkdir rmdir spawn migrate drain_all set_max
  std::uint32_t task = 0;    // index into the live tasks: exit migrate run_on alloc
  std::uint32_t object = 0;  // index into the live objects: free
  // Index into the online CPUs (all CPUs for cpu_offline). For free, mkdir,
  // rmdir, drain_all and set_max only when cpu_given; otherwise the trace
  // line has no "cpu" (the allocating task's CPU, or the default CPU).
  std::uint32_t cpu = 0;
  bool cpu_given = true;
  // alloc
  spec::AllocKind alloc_kind = spec::AllocKind::slab;
  std::uint64_t size_bytes = 0;
  std::uint32_t order = 0;
  bool nofail = false;
  // free: pick among the objects charged through reparented objcgs, when
  // there are any (their last frees and drains release those objcgs)
  bool reparented_first = false;
  // set_max: "max", else the memcg's usage + max_delta_pages (at least 0)
  bool max_unlimited = false;
  std::int32_t max_delta_pages = 0;
};

std::string describe_recipe(const OpRecipe& recipe);

// Flags by a small index (a path_pool() index, a CPU) in place, not on the
// heap: RapidCheck copies the generation model for every command it
// generates, and three std::vector<bool> copies were a sixth of a campaign's
// instructions.
class Flags {
 public:
  static constexpr std::size_t kCapacity = 64;  // spec::kMaxCpus; the path pool is smaller
  Flags(std::size_t n, bool value);
  bool operator[](std::size_t i) const { return bits_[i]; }
  std::bitset<kCapacity>::reference operator[](std::size_t i) { return bits_[i]; }
  std::size_t size() const { return n_; }

 private:
  std::bitset<kCapacity> bits_;
  std::size_t n_;
};

// RapidCheck's model of the run, for generation only.
struct GenState {
  spec::Config config;
  Flags path_online;  // by path_pool() index
  // A task allocated in the cgroup since its mkdir (objects may be charged
  // through its objcg): the rmdirs worth generating.
  Flags path_charged;  // by path_pool() index
  struct Task {
    std::uint32_t path = 0;
    spec::Cpu cpu = 0;
  };
  std::vector<Task> tasks;      // live tasks, in spawn order
  std::uint32_t nr_objects = 0;  // allocations that may be live (failed ones counted)
  Flags cpu_online;
  // An rmdir since the last quiesce: its offline (the reparenting) is queued.
  bool offline_pending = false;
  // A quiesce ran an offline: reparented objcgs may still have live objects
  // and cached byte stocks, whose frees and drains lead to their release.
  bool reparented = false;
  // Profiles with per-memcg kmem_caches: a slab allocation since the last
  // quiesce may have queued the creation of its memcg's cache, which only a
  // quiesce runs (until then the memcg allocates from the root cache).
  bool cache_create_pending = false;
  // Profiles with a multi-slot page stock (v6.16: NR_MEMCG_STOCK memcgs per
  // CPU, one evicted when all are taken): the cgroups whose tasks on the
  // first online CPU allocated since the last operation that may empty a
  // slot (a drain, a free, a limit, an offline). Eight of them are eight
  // memcgs in that CPU's stock: an eviction (Mark::page_stock_slot_evicted).
  Flags slot_streak;  // by path_pool() index
  // set_max gave the cgroup a limit (a charge near it takes no batch, so it
  // fills no page-stock slot).
  Flags path_limited;  // by path_pool() index

  explicit GenState(const spec::Config& config);
  std::vector<spec::Cpu> online_cpus() const;
  bool path_has_tasks(std::uint32_t path) const;
  bool path_has_online_child(std::uint32_t path) const;
};

// Whether the recipe has something to act on in `state` (RapidCheck's precondition).
bool recipe_applicable(const GenState& state, const OpRecipe& recipe);
// The model update: the predicted result (objects: assumed allocated).
void apply_recipe(GenState& state, const OpRecipe& recipe);

// Biased toward the bugs this code has had: slab sizes at and around page and
// stock boundaries (full size PAGE_SIZE-1, PAGE_SIZE, PAGE_SIZE+1, page
// multiples), percpu sizes whose full size straddles a page, frees on another
// CPU than the allocation, rmdir of cgroups whose objcgs are still cached, limits
// at usage +- a few pages, occasional quiesce.
rc::Gen<OpRecipe> gen_recipe(const GenState& state);

// Which configurations a campaign draws from (unset: random per run).
struct ConfigChoice {
  spec::Profile profile = spec::Profile::v6_6;
  std::optional<std::uint32_t> ncpus;            // else 1-4
  std::optional<std::uint64_t> page_size_bytes;  // else 4K, 16K or 64K
};
rc::Gen<spec::Config> gen_config(const ConfigChoice& choice);

// PCPU_MIN_UNIT_SIZE (PFN_ALIGN(32 << 10)) with 4K pages: pcpu_alloc refuses a
// size of 0 or above it (ENOMEM, docs/MODEL-v6.6.md), so the percpu sizes
// straddle it; with bigger pages it is larger, and the model keeps 32 KiB.
inline constexpr std::uint64_t kPcpuMinUnitBytes = 32768;
// MAX_ORDER (v6.6, inclusive): a larger kmem page order is refused (ENOMEM).
inline constexpr std::uint32_t kMaxOrder = 10;

// Interesting slab and percpu sizes for a configuration (tests check them).
std::vector<std::uint64_t> slab_boundary_sizes(const spec::Config& config);
std::vector<std::uint64_t> percpu_boundary_sizes(const spec::Config& config);

}  // namespace mv::properties
