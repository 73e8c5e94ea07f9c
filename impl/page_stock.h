// The per-CPU page stock (v6.6 mm/memcontrol.c): pre-charged pages of one
// memcg per CPU, so that most charges touch no page_counter atomics.
#pragma once

#include <cstdint>

#include "arith/page_stock.h"
#include "impl/per_cpu.h"

namespace mv::impl {

class Cpu;
struct Memcg;

// consume_stock (v6.6; v6.16: the first slot caching memcg decides).
inline bool consume_stock(Cpu& cur, Memcg* memcg, std::uint32_t nr_pages) {
  using arith::M;
  MemcgStockPcp& stock = cur.stock();
  stock.stock_lock.lock();
  bool hit = false;
  for (std::uint32_t i = 0; i < cur.page_stock_slots; ++i) {
    if (stock.cached[i].load_relaxed() != memcg) continue;
    auto stock_pages = M::lit32(stock.nr_pages[i].load_relaxed());
    hit = static_cast<bool>(
        arith::page_stock_covers<M>(stock_pages, M::lit32(nr_pages), cur.batch_pages));
    if (hit)
      stock.nr_pages[i].store_relaxed(arith::page_stock_consume<M>(stock_pages, M::lit32(nr_pages)).v);
    break;
  }
  stock.stock_lock.unlock();
  return hit;
}
// drain_stock (v6.6) of `stock` (the current CPU's, or a dead CPU's).
void drain_stock(Cpu& cur, MemcgStockPcp& stock);
// __refill_stock (v6.6): the current CPU's stock, lock held.
void refill_stock_locked(Cpu& cur, Memcg* memcg, std::uint32_t nr_pages);
// refill_stock (v6.6).
void refill_stock(Cpu& cur, Memcg* memcg, std::uint32_t nr_pages);
// drain_local_stock (v6.6) of the current CPU; v6.16: both of its stocks.
void drain_local_stock(Cpu& cur);
// drain_local_memcg_stock, drain_local_obj_stock (v6.16): one stock each,
// clearing its own FLUSHING bit.
void drain_local_memcg_stock(Cpu& cur);
void drain_local_obj_stock(Cpu& cur);
// memcg_uncharge (v6.16): page_counter_uncharge of memory.
void memcg_uncharge(Cpu& cur, Memcg* memcg, std::uint32_t nr_pages);
// drain_all_stock (v6.6) from the current CPU.
void drain_all_stock(Cpu& cur, Memcg* root_memcg);

}  // namespace mv::impl
