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
    "**v5.2, v5.3**: not checked: their css holders include per-memcg kmem_caches (v5.2: a css "
    "reference per kmem_cache and per charged slab page; v5.3: one per kmem_cache, moved to the "
    "parent on offline), which the snapshot cannot name. **v5.10**: checked; kmem pages and "
    "stacks hold css references through `page->mem_cgroup` (one per page); every reparented objcg "
    "holds one css reference on its current `objcg->memcg`. **v6.1, v6.6, v6.6+9f01b4954490**: "
    "checked; objcgs hold no css reference; kmem pages hold objcg references; in v6.1 and v6.6 "
    "a dead CPU's obj stock keeps its objcg reference (counted: the stock still caches it). "
    "**v6.16**: not checked: since v6.7 each memcg "
    "also holds a reference on its `orig_objcg` until `css_free`, and each task caches "
    "`current->objcg` with a reference; neither is in the snapshot (the css side would check as "
    "in v6.6, with one reference per stock slot).";

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
    const CssHolders h = css_holders(ctx.after, ctx.traits, cg);
    if (cg.css_refs != h.total())
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
    const ObjcgHolders h = objcg_holders(ctx.after, objcg);
    if (objcg.refs != h.total())
      report.add(fmt::format("objcg {} ({}): refcount {} != {} held ({})", objcg.id,
                             objcg_state_name(objcg.state), objcg.refs, h.total(), describe(h)));
  });
}

void check(const CheckContext& ctx, Report& report) {
  check_css(ctx, report);
  check_objcgs(ctx, report);
}

}  // namespace

InvariantDef ref_balance_invariant() {
  return {{"INV-REF-BALANCE",
           "every css and objcg refcount equals the holders the profile enumerates",
           kStatement, kSources, kProfiles, objcg_profile_ids_before(Profile::v6_16)},
          check};
}

}  // namespace mv::spec
