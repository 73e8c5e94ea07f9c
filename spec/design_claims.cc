#include "spec/design_claims.h"

#include <stdexcept>

namespace mv::spec {

namespace {

std::vector<DesignClaim> build() {
  std::vector<DesignClaim> c;
  // --- v5.2: per-memcg caches, every charged page pins its memcg ------------
  c.push_back({"v5.2-slab-pages-pin", Profile::v5_2, "INV-NO-PIN", "slab-page",
               "seed 000 (Roman Gushchin, \"mm: reparent slab memory on cgroup removal\")",
               "\"any page charged to a cgroup holds a reference to it, so the cgroup can't be "
               "reclaimed unless all charged pages are gone\": a live object of a cache shared by "
               "generations of a workload keeps its slab page, and the memcg that page is charged "
               "to, after rmdir",
               "v5.3 (fb2f2b0adb98: kmem_caches hold the reference and are reparented)"});
  c.push_back({"v5.2-kmem-pages-pin", Profile::v5_2, "INV-NO-PIN", "kmem-page",
               "seed 000 (its reference [2], kernel stacks) and seed 004",
               "kmem pages and kernel stacks keep their css references on page->mem_cgroup: a "
               "live one keeps a removed memcg dying",
               "v5.13 (b4e0b68fbd9d, seed 004: kmem pages charged through obj_cgroup)"});
  c.push_back({"v5.2-caches-unbounded", Profile::v5_2, "INV-CACHES-BOUNDED", "count",
               "seed 003 (Vladimir Davydov, \"memcg: reuse per cgroup kmem caches\")",
               "\"The number of per cgroup caches of the same kind cannot be be greater than the "
               "maximal number of online kmem active memory cgroups that have ever existed "
               "simultaneously. Currently it is unlimited\": a dying memcg keeps its caches while "
               "the next memcg gets new ones for the same kmemcg_id",
               "davydov-2014 (not merged); v5.9 removed per-memcg caches (10befea91b61)"});
  // --- v5.3: kmem_caches reparented ------------------------------------------
  c.push_back({"v5.3-kmem-pages-pin", Profile::v5_3, "INV-NO-PIN", "kmem-page",
               "seed 004 (Muchun Song, \"Use obj_cgroup APIs to charge kmem pages\")",
               "slab memory no longer pins (seed 000's fix), but \"the kernel stack is charged as "
               "kmem pages ... the thread can pin the memory cgroup A in the memory even if we "
               "remove the cgroup A\"",
               "v5.13 (b4e0b68fbd9d)"});
  c.push_back({"v5.3-reparented-caches-accumulate", Profile::v5_3, "INV-CACHES-BOUNDED", "count",
               "the model (seed 003's bound applied to seed 000's design)",
               "a reparented cache lives until its last slab page is freed, so the caches of "
               "removed memcgs whose objects are still used outnumber the memcgs ever online at "
               "once, as in v5.2",
               "v5.9 (10befea91b61: no per-memcg caches)"});
  c.push_back({"v5.3-root-drift", Profile::v5_3, "INV-PAGE-CONSERVATION", "root",
               "the model (v5.4.286 memcg_uncharge_slab)",
               "a cache reparented to the root gives back pages that were charged, hierarchically "
               "up to the root, before the reparenting, without uncharging the root's counter "
               "(memcg_uncharge_slab skips a root memcg_params.memcg): the root's usage stays above "
               "what it holds. Harmless: nothing reads the root's page_counter on cgroup v2",
               "v5.9 (10befea91b61: no per-memcg caches)"});
  // --- Davydov 2014: caches reused by the next memcg -------------------------
  c.push_back({"davydov-kmem-pages-pin", Profile::davydov_2014, "INV-NO-PIN", "kmem-page",
               "the series' base (v3.18-mmotm) and seed 004",
               "the series changes slab pages only: kmem pages and kernel stacks still keep "
               "page->mem_cgroup and its references",
               "v5.13 (b4e0b68fbd9d)"});
  c.push_back({"davydov-unrecharged-page-pins", Profile::davydov_2014, "INV-NO-PIN", "slab-page",
               "the model, against seed 003's claim",
               "seed 003 says a new memcg \"will be recharging slabs accounted to the dead cgroup "
               "while allocating objects from the cache. Therefore all references to the old "
               "cgroup will be put sooner or later\". Only a page some later memcg allocates from "
               "is recharged: a page whose objects all stay live (a full page, a page of a cache "
               "nobody else uses, a root-cache page taken before the memcg cache existed) keeps "
               "the dead memcg",
               "v5.3 (reparenting) / v5.9 (objcg)"});
  // --- v5.10: objcg byte charging, kmem pages still memcg-charged ------------
  c.push_back({"v5.10-kmem-pages-pin", Profile::v5_10, "INV-NO-PIN", "kmem-page",
               "seed 004",
               "\"the kernel stack of the thread hold a reference to the memory cgroup A. The "
               "thread can pin the memory cgroup A\": seed 004's script leaves one dying cgroup per "
               "round",
               "v5.13 (b4e0b68fbd9d)"});
  c.push_back({"v5.10-freed-kmem-page-stocked", Profile::v5_10, "INV-NO-PIN", "stock-pages",
               "the model (v5.10.13 __memcg_kmem_uncharge)",
               "freeing a kmem page or stack of a dying memcg gives its pages to this CPU's page "
               "stock (__memcg_kmem_uncharge -> refill_stock, 3de7d4f25a74), which then caches "
               "the dying memcg with pages and a css reference: it stays pinned until that CPU "
               "charges another memcg or is drained, since its offline (and drain_all_stock) has "
               "already run",
               "v5.13 (b4e0b68fbd9d: the uncharge goes through the reparented objcg)"});
  // --- v6.16: the uncharge side skips the root -------------------------------
  c.push_back({"v6.16-root-drift", Profile::v6_16, "INV-PAGE-CONSERVATION", "root",
               "the model (v6.18 obj_cgroup_uncharge_pages, drain_obj_stock)",
               "obj_cgroup_charge_pages charges the root through try_charge_memcg, but "
               "obj_cgroup_uncharge_pages, drain_obj_stock and obj_cgroup_release skip it: pages "
               "charged through an objcg before it was reparented to the root are never given back "
               "to the root's counter. Harmless: nothing reads the root's page_counter",
               "-"});
  return c;
}

}  // namespace

const std::vector<DesignClaim>& design_claims() {
  static const std::vector<DesignClaim> claims = build();
  return claims;
}

const DesignClaim* find_design_claim(std::string_view id) {
  for (const auto& c : design_claims())
    if (c.id == id) return &c;
  return nullptr;
}

std::vector<const DesignClaim*> design_claims_of(Profile profile) {
  std::vector<const DesignClaim*> out;
  for (const auto& c : design_claims())
    if (c.profile == profile) out.push_back(&c);
  return out;
}

const DesignClaim* claim_covering(Profile profile, const Violation& violation) {
  for (const auto& c : design_claims())
    if (c.profile == profile && c.invariant == violation.invariant && c.clause == violation.clause &&
        !violation.clause.empty())
      return &c;
  return nullptr;
}

void mark_design_claims(Profile profile, std::vector<Violation>& violations) {
  for (auto& v : violations)
    if (const DesignClaim* c = claim_covering(profile, v)) v.design_claim = std::string(c->id);
}

const DesignInfo& design_info(Profile profile) {
  static const std::vector<DesignInfo> infos = {
      {Profile::v5_2, "per-memcg kmem_caches; every charged page holds its memcg",
       "seed 000 (the problem) and seed 003 (the cache count)",
       "Per-memcg kmem_caches, created by deferred work on a memcg's first allocation from a root "
       "cache (until the work has run, the memcg allocates from the root cache, uncharged). A "
       "slab page of a memcg cache is charged whole to the cache's memcg when the cache grows "
       "and uncharged when it is freed empty. Every charged page (slab pages, kmem pages, kernel "
       "stacks, and the pages held in the per-CPU page stock) carries one css reference from "
       "try_charge's css_get_many; the stock's cached pointer holds none. At rmdir the memcg's "
       "caches are deactivated; they are destroyed when the memcg itself is freed.",
       "Seed 000: \"any page charged to a cgroup holds a reference to it, so the cgroup can't be "
       "reclaimed unless all charged pages are gone\"; slab objects shared by generations of a "
       "periodic workload make dying cgroups accumulate (56 to 1,560 in 7 days on production "
       "hosts). Seed 003: the number of per-cgroup caches is unlimited."},
      {Profile::v5_3, "kmem_caches reparented on rmdir", "seed 000 (the fix, merged in v5.3)",
       "kmem_caches hold one css reference on their memcg; a slab page's css references go to its "
       "cache's percpu_ref (1 << order per page). On rmdir the memcg's caches are deactivated "
       "and reparented to the parent (pointer and references moved); a deactivated cache whose "
       "refcount reaches zero is shut down and drops its memcg reference. kmem pages and kernel "
       "stacks still hold their memcg directly. Modeled on the v5.4.286 text, which also carries "
       "GONG Ruiqi's stock reference fix.",
       "Seed 000: with the reparenting the number of dying cgroups \"stabilizes in 60s range\" "
       "(23 to 69 over 7 days) instead of growing linearly."},
      {Profile::davydov_2014, "caches reused by the next memcg, slab pages recharged",
       "seed 003 (Vladimir Davydov, 2014; posted, not merged)",
       "Per-memcg caches are never destroyed: a dead memcg's kmemcg_id, and with it its set of "
       "caches, goes to the next memcg that comes online. Slab pages are charged to the "
       "allocating task's memcg (root caches included), and after every allocation the object's "
       "page is recharged to the allocating memcg when it is charged to another. Page charging "
       "as in v5.2; as in its 3.18 base, a __GFP_NOFAIL allocation is never charged.",
       "Seed 003: the number of per-cgroup caches of one kind cannot be greater than the largest "
       "number of kmem-active cgroups ever online at once; a new memcg \"will be recharging "
       "slabs accounted to the dead cgroup while allocating objects from the cache. Therefore "
       "all references to the old cgroup will be put sooner or later, and it will be freed.\""},
      {Profile::v5_10, "obj_cgroup byte charging; kmem pages still memcg-charged",
       "seed 001 (the design) and seed 004 (its remaining problem)",
       "Slab and percpu objects charge their size plus the objcg pointer through their memcg's "
       "obj_cgroup (seed 001): whole pages go to the memcg's page_counter, the sub-page rest to a "
       "per-CPU byte stock whose refill past PAGE_SIZE drains the whole stock "
       "(MEMCG_CHARGE_BATCH 32). On rmdir the objcg is reparented and holds one css reference "
       "on its new memcg. kmem pages and kernel stacks are still charged to the memcg directly "
       "and hold its css reference.",
       "Seed 001: obj_cgroup \"prevents long-living objects from pinning the original memory "
       "cgroup\". Seed 004: kernel stacks still pin; its script leaves 500 dying cgroups."},
      {Profile::v6_6, "kmem pages through obj_cgroup (the baseline)", "seed 004 (the fix, v5.13)",
       "The baseline of docs/MODEL-v6.6.md, as 6.6.57 was released: kmem pages and kernel stacks charged through the "
       "objcg, MEMCG_CHARGE_BATCH 64, refill_obj_stock's allow_uncharge, objcgs holding no css "
       "reference, one combined per-CPU stock; CPU hotplug drains only the page stock (the known kernel bug hotplug_obj_stock_leak, fixed by 9f01b4954490).",
       "Seed 004: with kmem pages charged through obj_cgroup \"the number of the dying cgroups "
       "will not increase\"."},
      {Profile::v6_1, "v6.6's design as Debian's 6.1.192 has it",
       "none (the kernel Debian ships; docs/MODEL-v6.6.md)",
       "The v6.6 design; kernel stacks that fail to charge uncharge every page of the stack "
       "(memcg_charge_kernel_stack's error path), and CPU hotplug drains only the page stock.",
       "Nothing beyond v6.6's claims."},
      {Profile::v6_6_hotplug_fix, "v6.6 with the obj stock drained on CPU hotplug",
       "9f01b4954490 (\"memcg: drain obj stock on cpu hotplug teardown\", in 6.6.y from 6.6.90)",
       "v6.6.57 with memcg_hotplug_cpu_dead draining the dead CPU's obj stock too.",
       "The fix: a dead CPU's obj stock keeps no bytes and no objcg reference."},
      {Profile::v6_16, "seven memcgs per page stock, a separate obj stock",
       "Shakeel Butt, \"memcg: multi-memcg percpu charge cache\" (f735eebe55f8, v6.16)",
       "The per-CPU page stock caches up to seven memcgs (NR_MEMCG_STOCK); when every slot "
       "caches another memcg, refill_stock evicts get_random_u32_below(7): the model draws the "
       "n-th eviction of a CPU from a fixed sequence instead (the splitmix64 finalizer of "
       "cpu << 32 | n, modulo 7: arith::page_stock_evicted_slot; each stock counts its "
       "evictions), so a trace replays to the same slot. The obj stock is a separate per-CPU "
       "structure with its own lock, drain work and FLUSHING bit; drain_obj_stock uncharges "
       "whole pages directly and puts its objcg itself, obj_cgroup_release gives its pages to "
       "no stock. The stocks use local_trylock: a failed trylock takes the slow path (a refill "
       "uncharges directly, a consume misses); it fails only in an irq or NMI that interrupted "
       "a holder on the same CPU, which no operation of the trace vocabulary is, so a "
       "sequential run never takes it (unit tests take a lock by hand). CPU hotplug drains the "
       "obj stock too. From v6.7 memcg->orig_objcg and current->objcg hold objcg references "
       "(a task looks its objcg up at its first allocation after fork or migration), and the "
       "uncharge paths skip the root memcg. Read in v6.18.19 (no 6.16 tree is stored): the "
       "functions the model follows came with the v6.16 series.",
       "The multi-memcg stock: fewer refills when tasks of several cgroups share a CPU (+14% to "
       "+145% netperf throughput), and no change to what is charged."},
  };
  for (const auto& info : infos)
    if (info.profile == profile) return info;
  throw std::logic_error("design_info: unknown profile");
}

}  // namespace mv::spec
