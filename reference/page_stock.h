// The page half of the per-CPU charge stock (struct memcg_stock_pcp, v6.6):
// pre-charged pages of one memcg, which it pins with one css reference.
// Kernel: mm/memcontrol.c v6.6 consume_stock, drain_stock, __refill_stock,
// refill_stock. `this_cpu` is the CPU the kernel's this_cpu_ptr() would name.
#pragma once

#include <cstdint>
#include <optional>

#include "spec/snapshot.h"

namespace mv::reference {

struct Kernel;

struct PageStock {
  std::optional<spec::MemcgId> cached;  // stock->cached (holds a css reference)
  std::uint32_t nr_pages = 0;           // stock->nr_pages
};

// consume_stock (v6.6): takes nr_pages from this CPU's stock if it caches memcg
// with enough pages (never more than a batch).
bool consume_stock(Kernel& k, spec::Cpu this_cpu, spec::MemcgId memcg, std::uint32_t nr_pages);
// drain_stock (v6.6): uncharges the pages of stock_cpu's stock, drops its css ref.
void drain_stock(Kernel& k, spec::Cpu stock_cpu);
// __refill_stock (v6.6; the caller holds the stock lock): caches memcg in this
// CPU's stock (draining another one first) and adds nr_pages; drains past a batch.
void refill_stock_locked(Kernel& k, spec::Cpu this_cpu, spec::MemcgId memcg,
                         std::uint32_t nr_pages);
// refill_stock (v6.6): __refill_stock under the local lock.
void refill_stock(Kernel& k, spec::Cpu this_cpu, spec::MemcgId memcg, std::uint32_t nr_pages);

}  // namespace mv::reference
