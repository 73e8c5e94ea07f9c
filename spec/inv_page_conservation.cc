// INV-PAGE-CONSERVATION: a memcg's page_counter usage is exactly the pages its
// subtree holds (page stocks, objcg charges, directly charged kmem pages).
#include <map>
#include <optional>

#include <fmt/format.h>

#include "spec/holders.h"
#include "spec/invariant_checks.h"

namespace mv::spec {

namespace {

constexpr std::string_view kStatement =
    "For every memcg M that is not freed and whose `mem_cgroup_css_offline` has not run "
    "(`!offlined`; online or dying; the root included), `usage_pages(M)` (the `memory` "
    "page_counter) equals the sum over every memcg D in M's subtree (M itself and every "
    "descendant that is not freed, dying ones included) of: (i) the pages of every per-CPU "
    "page-stock slot caching D (`stock->nr_pages` with `stock->cached == D`, on every CPU); "
    "(ii) `charged_pages` of every objcg O that is not released and whose `objcg->memcg == D` "
    "(a ghost counter: pages charged through O by `obj_cgroup_charge_pages`, forced or not, minus "
    "pages uncharged through it by `obj_cgroup_uncharge_pages`, `drain_obj_stock` and "
    "`obj_cgroup_release`); (iii) the pages (`charged_bytes / PAGE_SIZE`) of every live object "
    "that holds D directly (`page->mem_cgroup == D`, in profiles that charge kmem pages with a css "
    "reference); (iv) in the profiles with memcg kmem_caches, the charged pages of every live "
    "slab page charged to D: `page->mem_cgroup == D` (v5.2, davydov-2014), or, where the cache "
    "holds the charge (v5.3), the pages of the slab pages of every cache whose "
    "`memcg_params.memcg == D` (`memcg_uncharge_slab` uncharges that memcg). Offlined memcgs are excluded on purpose: `memcg_reparent_objcgs` points their "
    "objcgs at the parent, so every later uncharge through those objcgs lands on the parent's "
    "counter while the offlined memcg's own counter keeps the charges made before reparenting "
    "(a stale usage nothing reads). The hierarchy above stays exact: those charges were propagated "
    "to every ancestor when they were made and are uncharged there.";

constexpr std::string_view kSources =
    "mm/page_counter.c `page_counter_try_charge`, `page_counter_charge`, `page_counter_uncharge` "
    "(hierarchical: every level from the memcg to the root); mm/memcontrol.c v6.6 "
    "`try_charge_memcg` (batch of `MEMCG_CHARGE_BATCH`, `done_restock` → `refill_stock`), "
    "`consume_stock`, `__refill_stock`, `drain_stock`, `obj_cgroup_charge_pages`, "
    "`obj_cgroup_uncharge_pages`, `drain_obj_stock`, `obj_cgroup_release`, "
    "`memcg_reparent_objcgs`; v5.10 `__memcg_kmem_charge_page` / `__memcg_kmem_uncharge_page` "
    "(`page->mem_cgroup`), replaced by objcg charging in b4e0b68fbd9d (v5.13). "
    "docs/KERNEL.md section 10, item 2.";

constexpr std::string_view kProfiles =
    "**v5.2, davydov-2014**: terms (i), (iii), (iv) with `page->mem_cgroup`; `try_charge` skips "
    "the root, so the root's counter only ever moves with its descendants' charges, and the "
    "equation holds at the root too. **v5.3**: terms (i), (iii), (iv) through the caches. A "
    "cache reparented to the root gives its pages back without uncharging: "
    "`memcg_uncharge_slab` calls `memcg_kmem_uncharge_memcg` only for a non-root "
    "`memcg_params.memcg`, while those pages were charged (at a child, hierarchically up to the "
    "root) before the reparenting, so the root's usage stays above what its subtree holds (clause "
    "`root`; nothing reads the root's counter on cgroup v2). **v5.10**: terms (i), (ii), (iii); "
    "`try_charge()` returns early for the root, so an objcg reparented to the root would charge "
    "nothing while its uncharges (`__memcg_kmem_uncharge` → `refill_stock`) reach the root's "
    "counter: only a charge that races with the reparenting gets there (fixed in v5.14 by "
    "c5c8b16b596e). **v6.6**: the baseline; `try_charge_memcg` charges the root too and "
    "`refill_stock` has no root check, so the equation holds at every level including the root. "
    "**v6.16**: term (i) sums the seven slots of each CPU. `obj_cgroup_uncharge_pages`, "
    "`drain_obj_stock` and `obj_cgroup_release` skip the root while `obj_cgroup_charge_pages` "
    "charges it, so pages charged before an objcg's reparenting to the root are never given back "
    "to the root's counter (clause `root`; the open question of docs/KERNEL.md section 12, "
    "shown by the design matrix's trace).";

void check(const CheckContext& ctx, Report& report) {
  const bool direct_pages = objects_hold_memcg_directly(ctx.traits);
  // Profiles with per-memcg kmem_caches: the charged slab pages, counted for
  // page->mem_cgroup (v5.2, davydov-2014) or the cache's memcg (v5.3) and
  // every ancestor of it; a freed memcg's do not count (INV-NO-UAF).
  std::map<MemcgId, std::int64_t> slab_subtree;
  for (const auto& page : ctx.after.slab_pages()) {
    if (page.charged_pages == 0) continue;
    std::optional<MemcgId> owner = page.memcg;
    if (!owner)
      for (const auto& cache : ctx.after.caches())
        if (cache.id == page.cache) owner = cache.memcg;
    const CgroupSnap* cg = owner ? ctx.after.memcg(*owner) : nullptr;
    if (!cg || cg->state == CgroupState::freed) continue;
    for (MemcgId id : ctx.after.ancestors_or_self(*owner)) slab_subtree[id] += page.charged_pages;
  }
  ctx.each_memcg(report, {0}, [&](const CgroupSnap& cg) {
    if (cg.state == CgroupState::freed || cg.offlined) return;
    // The subtree's holdings; a freed memcg's do not count (INV-NO-UAF reports them).
    const SubtreeHoldings h = ctx.after.subtree_holdings(cg.id);
    const std::int64_t s = h.stocked_pages, o = h.objcg_pages, d = direct_pages ? h.direct_pages : 0;
    const std::int64_t p = slab_subtree.count(cg.id) ? slab_subtree.at(cg.id) : 0;
    if (cg.usage_pages == s + o + d + p) return;
    std::string message =
        fmt::format("{}: page_counter usage {} != {} held in its subtree ({} in page stocks",
                    ctx.memcg_name(cg), cg.usage_pages, s + o + d + p, s);
    if (ctx.traits.has_objcg()) message += fmt::format(" + {} charged through objcgs", o);
    if (direct_pages) message += fmt::format(" + {} in directly charged kmem pages", d);
    if (ctx.traits.has_memcg_caches()) message += fmt::format(" + {} in charged slab pages", p);
    // The root level names itself: two designs give back pages of a cache or
    // objcg reparented to the root without uncharging the root's counter.
    report.add(cg.parent ? "subtree" : "root", cg.id, message + ")");
  });
}

}  // namespace

InvariantDef page_conservation_invariant() {
  return {{"INV-PAGE-CONSERVATION",
           "every page a memcg's page_counter holds is in a page stock, charged through an objcg, "
           "or held by a directly charged kmem page of its subtree",
           kStatement, kSources, kProfiles,
           all_profile_ids()},
          check};
}

}  // namespace mv::spec
