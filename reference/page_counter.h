// The hierarchical page_counter (mm/page_counter.c, v6.6): one per memcg
// (`memcg->memory`), whose parent is the parent memcg's counter. memsw and the
// v1 kmem counter only mirror it on cgroup v2 and are not modeled; neither is
// protection (min/low) propagation, which nothing here reads.
#pragma once

#include <cstdint>
#include <optional>

#include "spec/snapshot.h"

namespace mv::reference {

struct Kernel;

struct PageCounter {
  std::uint64_t usage_bits = 0;  // atomic_long_t usage, kept as its unsigned bits
  std::uint64_t max_pages = 0;   // PAGE_COUNTER_MAX when unlimited
  std::uint64_t failcnt = 0;
  std::uint64_t watermark_pages = 0;
};

// The counter handle is the memcg that embeds it; the parent chain is the memcg
// parent chain (page_counter_init(&memcg->memory, &parent->memory)).

// page_counter_try_charge (v6.6): nullopt on success, else the memcg whose
// counter refused (`*fail`, the caller's mem_over_limit).
std::optional<spec::MemcgId> page_counter_try_charge(Kernel& k, spec::MemcgId counter,
                                                     std::uint64_t nr_pages);
// page_counter_charge (v6.6): every level, never checks max.
void page_counter_charge(Kernel& k, spec::MemcgId counter, std::uint64_t nr_pages);
// page_counter_cancel (v6.6): one level, clamps an underflow to 0.
void page_counter_cancel(Kernel& k, spec::MemcgId counter, std::uint64_t nr_pages);
// page_counter_uncharge (v6.6): page_counter_cancel at every level.
void page_counter_uncharge(Kernel& k, spec::MemcgId counter, std::uint64_t nr_pages);
// page_counter_set_max (v6.6): false (-EBUSY) when usage is above nr_pages.
bool page_counter_set_max(Kernel& k, spec::MemcgId counter, std::uint64_t nr_pages);

}  // namespace mv::reference
