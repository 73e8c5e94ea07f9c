// INV-REF-BALANCE: every css and objcg refcount equals the holders the
// snapshot shows (spec/holders.h enumerates them per profile).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "spec/holders.h"
#include "spec/invariant_checks.h"

namespace mv::spec {

namespace {

constexpr std::string_view kStatement =
    "For every memcg M that is neither freed nor the root, `css_refs(M)` equals the references "
    "its holders account for: 1 base reference while online (cgroup core `percpu_ref_init`, "
    "dropped by `percpu_ref_kill_and_confirm` at rmdir); while dying and not yet offlined, 2 "
    "references of the kill: `kill_css`'s own `css_get` (put by `css_killed_work_fn` after "
    "`offline_css`) and the confirm reference `__percpu_ref_switch_to_atomic` takes (put by the "
    "kill's RCU callback, which the models run in the same deferred item as the offline); 1 ID "
    "reference until offlined "
    "(`mem_cgroup_css_online` ... `mem_cgroup_id_put` at the end of `mem_cgroup_css_offline`); "
    "1 per child memcg not yet freed (`css_free_rwork_fn` puts the parent); 1 per task in M (the "
    "css_set reference, counted once per task); for every per-CPU page-stock slot caching M, 1 "
    "(`__refill_stock` css_get, `drain_stock` css_put; since v5.9) or, before v5.9, `nr_pages` "
    "(every stocked page held its own reference); in profiles that charge kmem pages with a css "
    "reference, `nr_kmem_pages` per live object holding M directly (one per page: a page 1, a "
    "stack THREAD_SIZE / PAGE_SIZE); in profiles where reparented objcgs hold a css reference, "
    "1 per reparented, not released objcg with `objcg->memcg == M`. The root's css is "
    "`CSS_NO_REF`: 0. A freed memcg: 0. For every objcg O that is not released, `refs(O)` equals: "
    "1 initial reference while active (`percpu_ref_init` in `obj_cgroup_alloc`, killed by "
    "`memcg_reparent_objcgs`) + 1 while its kill's switch to atomic mode is pending "
    "(`switch_pending`: the switch's confirm reference, put by `percpu_ref_call_confirm_rcu`, "
    "whose put releases the objcg if nothing else holds it) + per live object charged through O, 1 for a slab or percpu object "
    "and `nr_kmem_pages` for a kmem page or stack (each page's `memcg_data` holds one) + 1 per CPU "
    "whose obj stock caches O. A released objcg: 0. Transient references "
    "(`get_obj_cgroup_from_current`'s pre-hook reference, `get_mem_cgroup_from_objcg`) are dropped "
    "within an operation and never show in a snapshot.";

constexpr std::string_view kSources =
    "kernel/cgroup/cgroup.c `css_create` / `kill_css` (`css_get`, then "
    "`percpu_ref_kill_and_confirm`) / `css_killed_work_fn` (`offline_css`, `css_put`) / "
    "`css_free_rwork_fn`; lib/percpu-refcount.c `__percpu_ref_switch_to_atomic` "
    "(`percpu_ref_get` \"put after confirmation\"), `percpu_ref_call_confirm_rcu`; "
    "mm/memcontrol.c v6.6 "
    "`mem_cgroup_css_online` (`refcount_set(&memcg->id.ref, 1); css_get`), `mem_cgroup_id_put`, "
    "`__refill_stock`, `drain_stock`, `obj_cgroup_alloc`, `memcg_reparent_objcgs`, "
    "`refill_obj_stock`, `mod_objcg_state`, `drain_obj_stock` (returns the old objcg for the "
    "caller to put), `__memcg_kmem_charge_page`, `__memcg_kmem_uncharge_page`; mm/slab.h "
    "`memcg_slab_post_alloc_hook` (`obj_cgroup_get` per object), `memcg_slab_free_hook`; "
    "mm/percpu.c `pcpu_memcg_post_alloc_hook`; v5.10 `memcg_reparent_objcgs` (css_get on the "
    "parent per reparented objcg) and `obj_cgroup_release` (`mem_cgroup_put`); 1a3e1f40962c "
    "(v5.9: one css reference per cached stock); 9838354e16a2 (v5.14: objcgs hold no css "
    "reference). docs/MODEL-v6.6.md \"Reference counts\"; docs/KERNEL.md section 8.";

constexpr std::string_view kProfiles =
    "**v5.2**: page-stock slots hold `nr_pages` references (try_charge's `css_get_many` at "
    "`done_restock`), the slot itself none; charged slab pages, kmem pages and stacks hold theirs "
    "on `page->mem_cgroup`; memcg caches hold none (`memcg_link_cache` takes no reference in "
    "5.2); queued creation and SLUB deactivation works hold one each. **v5.3**: stocked pages one "
    "each plus one for the cached memcg (the 5.4.y text carries GONG Ruiqi's fix); slab pages "
    "hand their references to the cache's percpu_ref (`css_put_many` after charging); each cache "
    "holds one css reference. **davydov-2014**: as v5.2, except that caches are never destroyed "
    "and hold nothing, and a recharge moves a slab page's references to the allocating memcg. "
    "**v5.10**: kmem pages and stacks hold css references through `page->mem_cgroup` (one per "
    "page); every reparented objcg holds one css reference on its current `objcg->memcg`. "
    "**v6.1, v6.6, v6.6+9f01b4954490**: objcgs hold no css reference; kmem pages hold objcg "
    "references; in v6.1 and v6.6 a dead CPU's obj stock keeps its objcg reference (counted: the "
    "stock still caches it). **v6.16**: as "
    "v6.6, one reference per stock slot, plus `orig_objcg` and `current->objcg` on the objcg "
    "side.";

std::string describe(const CssHolders& h) {
  std::vector<std::string> parts;
  if (h.base_refs) parts.push_back("1 base (online)");
  if (h.kill_refs) parts.push_back(fmt::format("{} of the kill (not offlined)", h.kill_refs));
  if (h.id_refs) parts.push_back("1 ID (not offlined)");
  if (h.child_refs) parts.push_back(fmt::format("{} children", h.child_refs));
  if (h.task_refs) parts.push_back(fmt::format("{} tasks", h.task_refs));
  std::int64_t stock_refs = 0;
  for (const auto& s : h.page_stocks) stock_refs += s.refs;
  if (stock_refs) parts.push_back(fmt::format("{} page stocks", stock_refs));
  std::int64_t object_refs = 0;
  for (const auto& o : h.objects) object_refs += o.refs;
  if (object_refs) parts.push_back(fmt::format("{} kmem pages", object_refs));
  if (!h.objcgs.empty()) parts.push_back(fmt::format("{} reparented objcgs", h.objcgs.size()));
  std::int64_t slab_refs = 0;
  for (const auto& p : h.slab_pages) slab_refs += p.refs;
  if (slab_refs) parts.push_back(fmt::format("{} from {} slab pages", slab_refs, h.slab_pages.size()));
  if (!h.caches.empty()) parts.push_back(fmt::format("{} kmem_caches", h.caches.size()));
  if (h.cache_work_refs) parts.push_back(fmt::format("{} cache works", h.cache_work_refs));
  return parts.empty() ? "no holder" : fmt::format("{}", fmt::join(parts, " + "));
}

std::string describe(const ObjcgHolders& h) {
  std::vector<std::string> parts;
  if (h.initial_refs) parts.push_back("1 initial (active)");
  if (h.confirm_refs) parts.push_back("1 confirm (switch to atomic pending)");
  std::int64_t object_refs = 0, nr_objects = 0;
  for (const auto& o : h.objects) {
    object_refs += o.refs;
    nr_objects += o.nr_objects;
  }
  if (object_refs) parts.push_back(fmt::format("{} from {} live objects", object_refs, nr_objects));
  if (!h.obj_stocks.empty()) parts.push_back(fmt::format("{} obj stocks", h.obj_stocks.size()));
  if (!h.tasks.empty()) parts.push_back(fmt::format("{} tasks (current->objcg)", h.tasks.size()));
  if (h.orig_refs) parts.push_back("1 orig_objcg");
  return parts.empty() ? "no holder" : fmt::format("{}", fmt::join(parts, " + "));
}

std::string describe(const CacheHolders& h) {
  std::vector<std::string> parts;
  if (h.initial_refs) parts.push_back("1 initial (not killed)");
  std::int64_t refs = 0;
  for (const auto& p : h.slab_pages) refs += p.refs;
  if (refs) parts.push_back(fmt::format("{} from {} slab pages", refs, h.slab_pages.size()));
  return parts.empty() ? "no holder" : fmt::format("{}", fmt::join(parts, " + "));
}

void check_css(const CheckContext& ctx, Report& report) {
  ctx.each_memcg(report, {0}, [&](const CgroupSnap& cg) {
    if (cg.state == CgroupState::freed || !cg.parent) {
      if (cg.css_refs != 0)
        report.add(fmt::format("{}: css refcount {} != 0 ({})", ctx.memcg_name(cg), cg.css_refs,
                               cg.parent ? "a freed memcg" : "the root css is CSS_NO_REF"));
      return;
    }
    // Counted without lists; listed (for the message) only when they differ.
    if (cg.css_refs == css_held_refs(ctx.after, ctx.traits, cg)) return;
    const CssHolders h = css_holders(ctx.after, ctx.traits, cg);
    report.add(fmt::format("{}: css refcount {} != {} held ({})", ctx.memcg_name(cg), cg.css_refs,
                           h.total(), describe(h)));
  });
}

void check_objcgs(const CheckContext& ctx, Report& report) {
  ctx.each_objcg(report, {1}, [&](const ObjcgSnap& objcg) {
    if (objcg.state == ObjcgState::released) {
      if (objcg.refs != 0)
        report.add(fmt::format("objcg {}: released with refcount {} != 0", objcg.id, objcg.refs));
      return;
    }
    if (objcg.refs == objcg_held_refs(ctx.after, objcg)) return;
    const ObjcgHolders h = objcg_holders(ctx.after, objcg);
    report.add(fmt::format("objcg {} ({}): refcount {} != {} held ({})", objcg.id,
                           objcg_state_name(objcg.state), objcg.refs, h.total(), describe(h)));
  });
}

// v5.3: a memcg cache's percpu_ref. Other profiles keep 0 (KmemCacheSnap::refs).
void check_caches(const CheckContext& ctx, Report& report) {
  const bool counted = ctx.traits.slab == SlabCharging::reparented_cache_pages;
  auto holders = cache_holders(ctx.after);
  for (const auto& cache : ctx.after.caches()) {
    std::int64_t expected = 0;
    std::string held = "no holder";
    if (counted && cache.root && cache.state != CacheState::destroyed) {
      expected = holders[cache.id].total();
      held = describe(holders[cache.id]);
    }
    if (cache.refs != expected)
      report.add(fmt::format("kmem_cache {} ({}): refcount {} != {} held ({})", cache.id,
                             cache_state_name(cache.state), cache.refs, expected, held));
  }
}

void check(const CheckContext& ctx, Report& report) {
  check_css(ctx, report);
  check_objcgs(ctx, report);
  check_caches(ctx, report);
}

}  // namespace

InvariantDef ref_balance_invariant() {
  return {{"INV-REF-BALANCE",
           "every css and objcg refcount equals the holders the profile enumerates",
           kStatement, kSources, kProfiles, all_profile_ids()},
          check};
}

}  // namespace mv::spec
