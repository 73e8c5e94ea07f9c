// The byte half of the per-CPU charge stock (struct memcg_stock_pcp, v6.6):
// pre-charged bytes of one objcg, which it pins with one objcg reference, plus
// the whole-stock operations (drain_local_stock, drain_all_stock).
// Kernel: mm/memcontrol.c v6.6. The slab vmstat caching (cached_pgdat,
// nr_slab_*_b) is not modeled: no vmstat counters in the model.
#pragma once

#include <cstdint>
#include <optional>

#include "spec/snapshot.h"

namespace mv::reference {

struct Kernel;

struct ObjStock {
  std::optional<spec::ObjcgId> cached_objcg;  // holds an objcg reference
  std::uint32_t nr_bytes = 0;                 // unsigned int stock->nr_bytes
};

// consume_obj_stock (v6.6).
bool consume_obj_stock(Kernel& k, spec::Cpu this_cpu, spec::ObjcgId objcg, std::uint32_t nr_bytes);
// drain_obj_stock (v6.6): empties stock_cpu's byte stock; whole pages go to
// __refill_stock on this_cpu (this_cpu_ptr), the rest to nr_charged_bytes.
// Returns the objcg it cached: the caller puts that reference. v6.16
// uncharges the pages directly and puts the reference itself (nullopt).
std::optional<spec::ObjcgId> drain_obj_stock(Kernel& k, spec::Cpu stock_cpu, spec::Cpu this_cpu);
// obj_stock_flush_required (v6.6).
bool obj_stock_flush_required(Kernel& k, spec::Cpu stock_cpu, spec::MemcgId root_memcg);
// refill_obj_stock (v6.6).
void refill_obj_stock(Kernel& k, spec::Cpu this_cpu, spec::ObjcgId objcg, std::uint32_t nr_bytes,
                      bool allow_uncharge);
// mod_objcg_state (v6.6): only its effect on the stock (it caches objcg).
void mod_objcg_state(Kernel& k, spec::Cpu this_cpu, spec::ObjcgId objcg);
// drain_local_stock (v6.6): both halves of the CPU's stock, clears FLUSHING.
// v6.16 has a drain work per stock: both of them (the trace's `drain`).
void drain_local_stock(Kernel& k, spec::Cpu cpu);
// drain_local_memcg_stock, drain_local_obj_stock (v6.16): one stock each,
// clearing its own FLUSHING bit.
void drain_local_memcg_stock(Kernel& k, spec::Cpu cpu);
void drain_local_obj_stock(Kernel& k, spec::Cpu cpu);
// drain_all_stock (v6.6) called on this_cpu: drains it now, queues the others.
void drain_all_stock(Kernel& k, spec::Cpu this_cpu, spec::MemcgId root_memcg);

}  // namespace mv::reference
