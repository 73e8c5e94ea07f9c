// The per-CPU page stock (v6.6 mm/memcontrol.c): pre-charged pages of one
// memcg per CPU, so that most charges touch no page_counter atomics.
#pragma once

#include <cstdint>

#include "impl/per_cpu.h"

namespace mv::impl {

class Cpu;
struct Memcg;

// consume_stock (v6.6).
bool consume_stock(Cpu& cur, Memcg* memcg, std::uint32_t nr_pages);
// drain_stock (v6.6) of `stock` (the current CPU's, or a dead CPU's).
void drain_stock(Cpu& cur, MemcgStockPcp& stock);
// __refill_stock (v6.6): the current CPU's stock, lock held.
void refill_stock_locked(Cpu& cur, Memcg* memcg, std::uint32_t nr_pages);
// refill_stock (v6.6).
void refill_stock(Cpu& cur, Memcg* memcg, std::uint32_t nr_pages);
// drain_local_stock (v6.6) of the current CPU.
void drain_local_stock(Cpu& cur);
// drain_all_stock (v6.6) from the current CPU.
void drain_all_stock(Cpu& cur, Memcg* root_memcg);

}  // namespace mv::impl
