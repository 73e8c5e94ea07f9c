// The per-CPU page stock (struct memcg_stock_pcp): pre-charged pages of the
// memcgs it caches, each pinned with one css reference. v6.6 caches one memcg
// (the page half of the combined stock); v6.16 (f735eebe55f8) caches up to
// NR_MEMCG_STOCK in a stock of its own. Kernel: mm/memcontrol.c v6.6
// consume_stock, drain_stock, __refill_stock, refill_stock; v6.16 the same
// names over slots, drain_stock_fully. `this_cpu` is the CPU the kernel's
// this_cpu_ptr() would name.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "spec/snapshot.h"

namespace mv::reference {

struct Kernel;

// NR_MEMCG_STOCK (v6.16); spec::ProfileTraits::page_stock_slots of a profile.
inline constexpr std::uint32_t kMaxPageStockSlots = 7;

struct PageStockSlot {
  std::optional<spec::MemcgId> cached;  // stock->cached[i] (holds a css reference)
  std::uint32_t nr_pages = 0;           // stock->nr_pages[i]
};

struct PageStock {
  // Slot 0 only before v6.16.
  std::array<PageStockSlot, kMaxPageStockSlots> slots;
  // v6.16: refill_stock's evictions so far (spec::StockSnap::evictions).
  std::uint32_t evictions = 0;
};

// consume_stock (v6.6, v6.16): takes nr_pages from the slot of this CPU's
// stock that caches memcg, if it has enough (never more than a batch).
bool consume_stock(Kernel& k, spec::Cpu this_cpu, spec::MemcgId memcg, std::uint32_t nr_pages);
// drain_stock (v6.6), drain_stock_fully (v6.16): uncharges the pages of every
// slot of stock_cpu's stock and drops their css references.
void drain_stock(Kernel& k, spec::Cpu stock_cpu);
// __refill_stock (v6.6; the caller holds the stock lock): caches memcg in this
// CPU's stock (draining another one first) and adds nr_pages; drains past a
// batch. v6.16 has no such half: refill_stock_locked is refill_stock there.
void refill_stock_locked(Kernel& k, spec::Cpu this_cpu, spec::MemcgId memcg,
                         std::uint32_t nr_pages);
// refill_stock (v6.6: __refill_stock under the local lock; v6.16: the slots).
void refill_stock(Kernel& k, spec::Cpu this_cpu, spec::MemcgId memcg, std::uint32_t nr_pages);
// memcg_uncharge (v6.16; v6.6 drain_stock's page_counter_uncharge): no memsw
// on cgroup v2.
void memcg_uncharge(Kernel& k, spec::MemcgId memcg, std::uint32_t nr_pages);
// The slot refill_stock (v6.16) evicts when every slot caches another memcg:
// the kernel's get_random_u32_below(NR_MEMCG_STOCK), drawn here from a fixed
// sequence per CPU (arith::page_stock_evicted_slot), the n-th eviction of a
// CPU taking its n-th value, so that a replay is deterministic.
std::uint32_t evicted_slot(const Kernel& k, spec::Cpu cpu);

}  // namespace mv::reference
