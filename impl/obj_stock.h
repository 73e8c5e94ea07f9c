// The per-CPU byte stock (v6.6 mm/memcontrol.c): pre-charged bytes of one
// objcg per CPU. The hit paths are inline in impl/kmem.h.
#pragma once

#include <cstdint>

#include "impl/per_cpu.h"

namespace mv::impl {

class Cpu;
struct Objcg;

// drain_obj_stock (v6.6) of `stock`; returns the old objcg for the caller to put.
Objcg* drain_obj_stock(Cpu& cur, MemcgStockPcp& stock);
// refill_obj_stock (v6.6), the cached-objcg-differs or page-uncharge case.
void refill_obj_stock_slow(Cpu& cur, Objcg* objcg, std::uint32_t nr_bytes,
                                         bool allow_uncharge);
// refill_obj_stock (v5.9-v5.13) on the current CPU's stock, which caches the
// objcg: `stock->nr_bytes += nr_bytes; if (stock->nr_bytes > PAGE_SIZE)
// drain_obj_stock(stock);` Called with the stock lock held; releases it.
[[gnu::cold]] void refill_obj_stock_whole_stock(Cpu& cur, MemcgStockPcp& stock,
                                                std::uint32_t nr_bytes);
// Mutant::dual_obj_stock only: refill_obj_stock(objcg, nr_bytes, true) on this
// CPU's hidden second byte stock (System::hidden_obj_stock).
void refill_hidden_obj_stock(Cpu& cur, Objcg* objcg, std::uint32_t nr_bytes);
// mod_objcg_state (v6.6): only its stock effect (the objcg is cached afterwards).
[[gnu::cold]] void mod_objcg_state_slow(Cpu& cur, Objcg* objcg);

}  // namespace mv::impl
