// What the removed cgroups of a run cost, measured on the model's state.
//
// The memory a dying cgroup holds is its struct mem_cgroup (a stated estimate,
// below: the models count references, not the size of the structure) plus the
// pages still charged to its page_counter. The kernel memory in use is the
// workload's slab and percpu memory plus the structures of every memcg not yet
// freed; its difference between two profiles run on the same workload is the
// seed 000 "slab and percpu" difference.
#pragma once

#include <cstdint>

#include "sim/machine.h"
#include "spec/snapshot.h"

namespace mv::sim {

// struct mem_cgroup while it exists, an estimate (docs/SIMULATE.md): the
// structure with its per-node data, about 4 KiB, and its per-CPU statistics:
// the v5.x memcg_vmstats_percpu (a counter per memcg stat, about 40, and per
// vm event, about 80) twice (the hierarchical and the local copy), with the
// per-node lruvec counters, about 2.5 KiB per possible CPU. "Memory cgroups
// are quite complex and big objects (mostly due to percpu stats)" (seed 000).
struct MemcgFootprint {
  std::uint64_t struct_bytes = 4096;
  std::uint64_t percpu_bytes_per_cpu = 2560;
  std::uint64_t bytes(std::uint32_t cpus) const { return struct_bytes + percpu_bytes_per_cpu * cpus; }
};

struct Measure {
  std::uint32_t online = 0;  // non-root memcgs
  std::uint32_t dying = 0;   // removed, not yet freed
  std::uint64_t dying_charged_pages = 0;  // still charged to dying memcgs
  std::uint64_t held_bytes = 0;   // dying * footprint + dying_charged_pages * PAGE_SIZE
  std::uint64_t slab_bytes = 0;   // workload slab memory + the structures of unfreed memcgs
  std::uint64_t percpu_bytes = 0;  // workload percpu memory + unfreed memcgs' per-CPU stats
  // Profiles with per-memcg kmem caches: the most memcg caches of one root
  // cache that are not destroyed (seed 003's count).
  std::uint32_t memcg_caches = 0;
  // seed003: the largest number of job cgroups online at once so far (the
  // bound of seed 003's claim); 0 where the workload does not track it.
  std::uint32_t max_online = 0;
  std::uint64_t kernel_bytes() const { return slab_bytes + percpu_bytes; }
};

Measure measure(const spec::Snapshot& state, const LiveTotals& live,
                const MemcgFootprint& footprint);

}  // namespace mv::sim
