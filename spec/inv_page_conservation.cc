// INV-PAGE-CONSERVATION: a memcg's page_counter usage is exactly the pages its
// subtree holds (page stocks, objcg charges, directly charged kmem pages).
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
    "reference). Offlined memcgs are excluded on purpose: `memcg_reparent_objcgs` points their "
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
    "**v5.2, v5.3**: not checked: charged slab pages belong to per-memcg kmem_caches (v5.2: each "
    "slab page charged to `page->mem_cgroup`; v5.3: kmem_caches reparented on rmdir) and the "
    "snapshot records no slab pages, so term (iii) cannot be enumerated. "
    "**v5.10**: term (iii) counts kmem pages and stacks charged with `page->mem_cgroup`. The "
    "root level is expected to diverge once an objcg is reparented to the root: `try_charge()` "
    "returns early for the root, so charges through that objcg charge nothing while its "
    "uncharges (`__memcg_kmem_uncharge`) do uncharge the root counter; fixed in v5.14 by "
    "c5c8b16b596e (obj_cgroup_charge_pages calls `try_charge_memcg`, which charges the root). "
    "A v5.10 violation at the root after such a reparenting is the documented result. "
    "**v6.6**: the baseline; `try_charge_memcg` charges the root too and `refill_stock` has no "
    "root check, so the equation holds at every level including the root. "
    "**v6.16**: term (i) sums the seven slots of each CPU. From v6.15 `obj_cgroup_uncharge_pages`, "
    "`drain_obj_stock` and `obj_cgroup_release` skip the root while `obj_cgroup_charge_pages` "
    "still charges it (docs/KERNEL.md section 12): if that reading is right the root drifts "
    "upward after reparenting to the root, a documented result at the root only.";

void check(const CheckContext& ctx, Report& report) {
  const bool direct_pages = objects_hold_memcg_directly(ctx.traits);
  ctx.each_memcg(report, {0}, [&](const CgroupSnap& cg) {
    if (cg.state == CgroupState::freed || cg.offlined) return;
    // The subtree's holdings; a freed memcg's do not count (INV-NO-UAF reports them).
    const SubtreeHoldings h = ctx.after.subtree_holdings(cg.id);
    const std::int64_t s = h.stocked_pages, o = h.objcg_pages, d = direct_pages ? h.direct_pages : 0;
    if (cg.usage_pages == s + o + d) return;
    std::string message = fmt::format(
        "{}: page_counter usage {} != {} held in its subtree ({} in page stocks + {} charged "
        "through objcgs",
        ctx.memcg_name(cg), cg.usage_pages, s + o + d, s, o);
    if (direct_pages) message += fmt::format(" + {} in directly charged kmem pages", d);
    report.add(message + ")");
  });
}

}  // namespace

InvariantDef page_conservation_invariant() {
  return {{"INV-PAGE-CONSERVATION",
           "every page a memcg's page_counter holds is in a page stock, charged through an objcg, "
           "or held by a directly charged kmem page of its subtree",
           kStatement, kSources, kProfiles,
           objcg_profile_ids()},
          check};
}

}  // namespace mv::spec
