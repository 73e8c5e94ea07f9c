#include "sim/footprint.h"

#include <algorithm>
#include <map>

namespace mv::sim {

Measure measure(const spec::Snapshot& state, const LiveTotals& live,
                const MemcgFootprint& footprint) {
  const std::uint64_t page = state.config.page_size_bytes;
  const std::uint32_t cpus = state.config.ncpus;
  Measure m;
  std::uint32_t unfreed = 0;
  for (const auto& cg : state.cgroups) {
    if (!cg.parent) continue;  // the root is never removed
    if (cg.state == spec::CgroupState::online) m.online += 1;
    if (cg.state == spec::CgroupState::dying) {
      m.dying += 1;
      if (cg.usage_pages > 0) m.dying_charged_pages += static_cast<std::uint64_t>(cg.usage_pages);
    }
    if (cg.state != spec::CgroupState::freed) unfreed += 1;
  }
  std::map<spec::CacheId, std::uint32_t> per_root;
  for (const auto& cache : state.caches)
    if (cache.root && cache.state != spec::CacheState::destroyed)
      m.memcg_caches = std::max(m.memcg_caches, ++per_root[*cache.root]);
  m.held_bytes = m.dying * footprint.bytes(cpus) + m.dying_charged_pages * page;
  m.slab_bytes = live.packed_slab_bytes(page) + unfreed * footprint.struct_bytes;
  m.percpu_bytes = live.percpu_bytes + std::uint64_t{unfreed} * footprint.percpu_bytes_per_cpu * cpus;
  return m;
}

}  // namespace mv::sim
