#include "reference/page_stock.h"

#include "arith/page_stock.h"
#include "reference/kernel_state.h"
#include "spec/coverage.h"

namespace mv::reference {

using arith::M;
using spec::Cpu;
using spec::MemcgId;

namespace {

std::uint32_t nr_slots(const Kernel& k) { return k.traits().page_stock_slots; }

// The css references of the stock (spec::StockCssRefs): per stocked page
// before v5.9, for the cached memcg from v5.9 (and in the 4.19.y/5.4.y
// stable fix of GONG Ruiqi).
bool stock_ref_per_page(const Kernel& k) {
  return k.traits().stock_refs != spec::StockCssRefs::cached;
}
bool stock_ref_for_cached(const Kernel& k) {
  return k.traits().stock_refs != spec::StockCssRefs::per_page;
}

// drain_stock (v6.6; v5.2 and v5.4 also css_put_many the stocked pages'
// references, and only v5.4's stable text puts one for the cached memcg;
// v6.16: drain_stock(stock, i) of one slot, through memcg_uncharge).
void drain_slot(Kernel& k, PageStockSlot& slot) {
  if (!slot.cached) return;
  MemcgId old = *slot.cached;
  if (slot.nr_pages != 0) {
    memcg_uncharge(k, old, slot.nr_pages);
    if (stock_ref_per_page(k)) css_put_many(k, old, slot.nr_pages);
    slot.nr_pages = 0;
  }
  if (stock_ref_for_cached(k)) css_put(k, old);
  slot.cached.reset();
}

// __refill_stock (v6.6), refill_stock (v6.16) on the slot caching the memcg:
// `nr_pages += n; if (nr_pages > MEMCG_CHARGE_BATCH) drain_stock(...)`
// (strictly greater: a full batch stays).
void add_to_slot(Kernel& k, PageStockSlot& slot, std::uint32_t nr_pages) {
  auto refill = arith::page_stock_refill<M>(M::lit32(slot.nr_pages), M::lit32(nr_pages),
                                            k.charge_batch_pages());
  slot.nr_pages = refill.stock_nr_pages.v;
  if (static_cast<bool>(refill.drain)) {
    spec::mark_hit(spec::Mark::page_stock_overflow_drain);
    drain_slot(k, slot);
  }
}

// refill_stock (v6.16, f735eebe55f8; the v6.18.19 text): a refill larger
// than a batch, or one that finds the stock's local_trylock taken, uncharges
// directly. Otherwise the slot caching memcg gets the pages (and is drained
// past a batch); else the first empty slot, else an evicted one (drained),
// caches memcg with a css reference and exactly nr_pages.
void refill_stock_slots(Kernel& k, Cpu this_cpu, MemcgId memcg, std::uint32_t nr_pages) {
  if (nr_pages > k.charge_batch_pages() || !local_trylock(k, this_cpu, StockLock::memcg)) {
    memcg_uncharge(k, memcg, nr_pages);
    return;
  }
  auto& stock = k.stock(this_cpu).page;
  std::optional<std::uint32_t> empty_slot;
  for (std::uint32_t i = 0; i < nr_slots(k); ++i) {
    auto& slot = stock.slots[i];
    if (!slot.cached && !empty_slot) empty_slot = i;
    if (slot.cached != memcg) continue;
    add_to_slot(k, slot, nr_pages);
    local_unlock(k, this_cpu, StockLock::memcg);
    return;
  }
  std::uint32_t i = empty_slot ? *empty_slot : evicted_slot(k, this_cpu);
  if (!empty_slot) {
    spec::mark_hit(spec::Mark::page_stock_slot_evicted);
    ++stock.evictions;
    drain_slot(k, stock.slots[i]);
  }
  css_get(k, memcg);
  stock.slots[i].cached = memcg;
  stock.slots[i].nr_pages = nr_pages;
  local_unlock(k, this_cpu, StockLock::memcg);
}

}  // namespace

std::uint32_t evicted_slot(const Kernel& k, Cpu cpu) {
  return arith::page_stock_evicted_slot(cpu, k.stock(cpu).page.evictions, nr_slots(k));
}

// memcg_uncharge (v6.16): page_counter_uncharge of memory (and memsw on v1).
void memcg_uncharge(Kernel& k, MemcgId memcg, std::uint32_t nr_pages) {
  page_counter_uncharge(k, memcg, nr_pages);
}

// consume_stock (v6.6; v6.16: the first slot caching memcg decides, and a
// local_trylock that fails is a miss)
bool consume_stock(Kernel& k, Cpu this_cpu, MemcgId memcg, std::uint32_t nr_pages) {
  if (nr_pages > k.charge_batch_pages() || !local_trylock(k, this_cpu, StockLock::memcg))
    return false;
  bool hit = false;
  auto& stock = k.stock(this_cpu).page;
  for (std::uint32_t i = 0; i < nr_slots(k); ++i) {
    auto& slot = stock.slots[i];
    if (slot.cached != memcg) continue;
    auto covers = arith::page_stock_covers<M>(M::lit32(slot.nr_pages), M::lit32(nr_pages),
                                              k.charge_batch_pages());
    if (static_cast<bool>(covers)) {
      slot.nr_pages = arith::page_stock_consume<M>(M::lit32(slot.nr_pages), M::lit32(nr_pages)).v;
      hit = true;
    }
    break;
  }
  local_unlock(k, this_cpu, StockLock::memcg);
  return hit;
}

// drain_stock (v6.6), drain_stock_fully (v6.16)
void drain_stock(Kernel& k, Cpu stock_cpu) {
  auto& stock = k.stock(stock_cpu).page;
  for (std::uint32_t i = 0; i < nr_slots(k); ++i) drain_slot(k, stock.slots[i]);
}

// __refill_stock (v6.6)
void refill_stock_locked(Kernel& k, Cpu this_cpu, MemcgId memcg, std::uint32_t nr_pages) {
  if (nr_slots(k) > 1) return refill_stock_slots(k, this_cpu, memcg, nr_pages);
  auto& slot = k.stock(this_cpu).page.slots[0];
  if (slot.cached != memcg) {
    drain_slot(k, slot);
    if (stock_ref_for_cached(k)) css_get(k, memcg);
    slot.cached = memcg;
  }
  add_to_slot(k, slot, nr_pages);
}

// refill_stock (v6.6): the local lock is the only difference from
// __refill_stock, and the model is sequential.
void refill_stock(Kernel& k, Cpu this_cpu, MemcgId memcg, std::uint32_t nr_pages) {
  refill_stock_locked(k, this_cpu, memcg, nr_pages);
}

}  // namespace mv::reference
