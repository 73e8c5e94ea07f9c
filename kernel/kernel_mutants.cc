#include "kernel/kernel_mutants.h"

#include <algorithm>
#include <stdexcept>

namespace mv::kernel {

namespace {

using extract::TextPatch;
using spec::Mutant;

constexpr const char* kMemcontrol = "mm/memcontrol.c";

// Each patch names the definition and the few tokens it changes; the reason a
// mutant has its patches is in spec/mutant.cc (what the bug is) and in the
// comment beside each.
std::vector<KernelMutant> build() {
  return {
      // A new objcg starts with two references.
      {Mutant::canary,
       {{kMemcontrol, "obj_cgroup_alloc", "INIT_LIST_HEAD(&objcg->list);",
         "INIT_LIST_HEAD(&objcg->list); percpu_ref_get(&objcg->refcnt);"}},
       ""},
      // The page stock caches its memcg without a css reference.
      {Mutant::stock_without_css_ref,
       {{kMemcontrol, "__refill_stock", "css_get(&memcg->css);", ""},
        {kMemcontrol, "drain_stock", "css_put(&old->css);", ""}},
       ""},
      // Slab frees skip the memcg hook.
      {Mutant::free_without_uncharge,
       {{"mm/slab.h", "memcg_slab_free_hook", "objcgs = slab_objcgs(slab);",
         "return; objcgs = slab_objcgs(slab);"}},
       ""},
      // Pages of an objcg reparented to the root are dropped, not given back.
      {Mutant::root_skipped_on_uncharge,
       {{kMemcontrol, "obj_cgroup_uncharge_pages", "refill_stock(memcg, nr_pages);",
         "if (!mem_cgroup_is_root(memcg)) refill_stock(memcg, nr_pages);"},
        {kMemcontrol, "drain_obj_stock", "__refill_stock(memcg, nr_pages);",
         "if (!mem_cgroup_is_root(memcg)) __refill_stock(memcg, nr_pages);"}},
       ""},
      // pcpu_obj_full_size without the objcg pointer array.
      {Mutant::percpu_without_metadata,
       {{"mm/percpu-internal.h", "pcpu_obj_full_size",
         "extra_size += size / PCPU_MIN_ALLOC_SIZE * sizeof(struct obj_cgroup *);", ""}},
       ""},
      {Mutant::hotplug_drains_page_stock_only,
       {},
       "the 6.1 and 6.6 trees already drain only the page stock in memcg_hotplug_cpu_dead (the "
       "fix 9f01b4954490 is not in them): the mutant is the tree as released"},
      {Mutant::evicted_slot_not_drained,
       {},
       "the trees the kernel model builds (6.1, 6.6) have a one-slot page stock: refill_stock "
       "never evicts a slot there (NR_MEMCG_STOCK is v6.16's)"},
      {Mutant::dual_obj_stock,
       {},
       "a second byte stock per CPU is a new member of struct memcg_stock_pcp with its own "
       "refill and drain paths: a change of structure, not a text substitution"},
      // A kmem page's charge given back twice, and page_counter_cancel no
      // longer clamps the usage at zero.
      {Mutant::double_uncharge_unclamped,
       {{kMemcontrol, "__memcg_kmem_uncharge_page", "obj_cgroup_uncharge_pages(objcg, nr_pages);",
         "obj_cgroup_uncharge_pages(objcg, nr_pages); obj_cgroup_uncharge_pages(objcg, nr_pages);"},
        {"mm/page_counter.c", "page_counter_cancel", "new = 0; atomic_long_set(&counter->usage, new);",
         ""}},
       ""},
      // A kmem page's charge given back twice.
      {Mutant::double_uncharge,
       {{kMemcontrol, "__memcg_kmem_uncharge_page", "obj_cgroup_uncharge_pages(objcg, nr_pages);",
         "obj_cgroup_uncharge_pages(objcg, nr_pages); obj_cgroup_uncharge_pages(objcg, nr_pages);"}},
       ""},
      // refill_obj_stock gives back whole pages at exactly PAGE_SIZE too.
      {Mutant::refill_obj_stock_at_page_size,
       {{kMemcontrol, "refill_obj_stock", "stock->nr_bytes > PAGE_SIZE", "stock->nr_bytes >= PAGE_SIZE"}},
       ""},
      // __refill_stock drains at exactly MEMCG_CHARGE_BATCH too.
      {Mutant::refill_stock_at_batch,
       {{kMemcontrol, "__refill_stock", "stock->nr_pages > MEMCG_CHARGE_BATCH",
         "stock->nr_pages >= MEMCG_CHARGE_BATCH"}},
       ""},
      // drain_obj_stock keeps `nr_bytes & PAGE_SIZE` for the remainder.
      {Mutant::drain_split_wrong_mask,
       {{kMemcontrol, "drain_obj_stock", "stock->nr_bytes & (PAGE_SIZE - 1)", "stock->nr_bytes & PAGE_SIZE"}},
       ""},
      // Caching an objcg reads nr_charged_bytes without clearing it (both
      // places that cache one, as the model's replace_stock_objcg).
      {Mutant::charged_bytes_not_cleared,
       {{kMemcontrol, "refill_obj_stock", "atomic_xchg(&objcg->nr_charged_bytes, 0)",
         "atomic_read(&objcg->nr_charged_bytes)"},
        {kMemcontrol, "mod_objcg_state", "atomic_xchg(&objcg->nr_charged_bytes, 0)",
         "atomic_read(&objcg->nr_charged_bytes)"}},
       ""},
      // The objcg a stock stops caching is never put (both places).
      {Mutant::old_objcg_not_put,
       {{kMemcontrol, "refill_obj_stock", "if (old) obj_cgroup_put(old);", ""},
        {kMemcontrol, "mod_objcg_state", "if (old) obj_cgroup_put(old);", ""}},
       ""},
      // obj_cgroup_charge does not round a partial page up.
      {Mutant::charge_split_no_round_up,
       {{kMemcontrol, "obj_cgroup_charge", "if (nr_bytes) nr_pages += 1;", ""}},
       ""},
      // The rollback of a failed hierarchical charge misses the level just
      // below the one that refused.
      {Mutant::rollback_misses_level,
       {{"mm/page_counter.c", "page_counter_try_charge", "c != *fail;", "c != *fail && c->parent != *fail;"}},
       ""},
  };
}

}  // namespace

const std::vector<KernelMutant>& kernel_mutants() {
  static const std::vector<KernelMutant> all = build();
  return all;
}

const KernelMutant& kernel_mutant(spec::Mutant mutant) {
  const auto& all = kernel_mutants();
  auto it = std::find_if(all.begin(), all.end(), [&](const KernelMutant& k) { return k.mutant == mutant; });
  if (it == all.end()) throw std::invalid_argument("mutant without a kernel entry");
  return *it;
}

}  // namespace mv::kernel
