// INV-NO-UAF: nothing touches or keeps a pointer to a freed memcg or a
// released objcg.
#include <fmt/format.h>

#include "spec/invariant_checks.h"

namespace mv::spec {

namespace {

constexpr std::string_view kStatement =
    "No `memcg_use_after_free` or `objcg_use_after_free` event appeared since the previous step "
    "(a model records one when an operation charges, uncharges, refills, gets or puts a freed "
    "memcg or a released objcg; each is reported once), and no `null_dereference` (an "
    "operation read a pointer that another CPU had just cleared and dereferenced the NULL: the "
    "kernel's oops; only an interleaving can produce one). And in the state after the step, nothing "
    "still points at one: no live object names a released (or unknown) objcg or, directly, a "
    "freed memcg; no page-stock slot caches a freed memcg and no obj stock caches a released "
    "objcg (both stocks hold references, so this would also be a count gone wrong); no task is "
    "in a freed memcg; no memcg that is not freed has a freed parent (a child holds a reference "
    "on its parent until it is freed itself) or an `objcg` pointer to a released objcg; no task "
    "caches a released objcg in `current->objcg` (v6.7+); no live slab page's "
    "`page->mem_cgroup` and no kmem_cache that is not destroyed names a freed memcg, and no live "
    "slab page belongs to a destroyed kmem_cache (clause `cache-freed`: an allocation used the "
    "cache after its shutdown, seed 002's race) (v5.2, v5.3, davydov-2014). (A non-released objcg whose `memcg` is freed is reported by "
    "INV-REPARENT.) In the profiles whose page stock keeps no reference for `stock->cached` "
    "(v5.2, davydov-2014), a slot whose pages were all consumed keeps pointing at its memcg "
    "with no reference, so the memcg can be freed under it: the dangling pointer is this "
    "invariant's violation (clause `stock-dangling`), the one `drain_all_stock` later "
    "dereferenced; it is the known kernel bug `stock_cached_unreferenced` of those profiles "
    "(1a3e1f40962c gave the pointer its reference in v5.9; GONG Ruiqi's 2024 fix backports that "
    "to 4.19.y and 5.4.y).";

constexpr std::string_view kSources =
    "mm/memcontrol.c v6.6 `obj_cgroup_release` (`kfree_rcu` of the objcg once the last "
    "reference is gone), `mem_cgroup_css_free` / `__mem_cgroup_free`; kernel/cgroup/cgroup.c "
    "`css_free_rwork_fn` (puts the parent css). Historical bugs of this kind, by their fixes: "
    "eefbfa7fd678 (v5.11, 5.10.4: `obj_cgroup_charge` did `css_get` on `objcg->memcg`, reviving "
    "a css whose count had reached zero; now `css_tryget` and retry), 9f38f03ae8d5 (v5.13: "
    "`drain_obj_stock` uncharged `objcg->memcg` without holding a reference), 2f7659a31473 "
    "(v5.11, 5.10.4: `get_obj_cgroup_from_current` could return an objcg whose tryget failed), "
    "3b8abb323953 (v6.5, 6.1.45; CVE-2023-53401: `obj_stock_flush_required` read "
    "`stock->cached_objcg` twice, and a remote drain could clear it in between); "
    "the bug catalog of docs/MUTANTS.md.";

constexpr std::string_view kProfiles =
    "Checked in every profile. In profiles without objcg (v5.2, v5.3, davydov-2014) only the "
    "memcg clauses can fire. **v5.2, davydov-2014**: the stock's cached pointer outlives its "
    "pages' references (clause `stock-dangling`, see above). **v5.3**: the 5.4.y text holds a "
    "reference for the cached memcg. **v5.10**: the base release carried eefbfa7fd678's css_get race, fixed by a css_tryget "
    "retry in 5.10.y; a sequential model only reaches it by a mutant. **v6.6, v6.16**: memcgs "
    "read through `objcg->memcg` are pinned with `get_mem_cgroup_from_objcg`'s tryget retry, so "
    "no use after free is documented.";

bool released_or_unknown(const CheckContext& ctx, ObjcgId id) {
  const ObjcgSnap* o = ctx.after.objcg(id);
  return !o || o->state == ObjcgState::released;
}

bool freed_or_unknown(const CheckContext& ctx, MemcgId id) {
  const CgroupSnap* cg = ctx.after.memcg(id);
  return !cg || cg->state == CgroupState::freed;
}

std::string objcg_text(const CheckContext& ctx, ObjcgId id) {
  return ctx.after.objcg(id) ? fmt::format("released objcg {}", id)
                             : fmt::format("objcg {}, which does not exist", id);
}

std::string memcg_text(const CheckContext& ctx, MemcgId id) {
  return ctx.after.memcg(id) ? fmt::format("freed {}", ctx.memcg_name(id, ctx.after))
                             : fmt::format("memcg {}, which does not exist", id);
}

void check_events(const CheckContext& ctx, Report& report) {
  for (const auto& event : new_events(ctx)) {
    if (event.kind == EventKind::memcg_use_after_free)
      report.add(fmt::format("use after free of {}", ctx.memcg_name(event.subject, ctx.after)));
    else if (event.kind == EventKind::objcg_use_after_free)
      report.add(fmt::format("use after release of objcg {}", event.subject));
    else if (event.kind == EventKind::null_dereference)
      report.add(fmt::format("NULL pointer dereference on CPU {}", event.subject));
  }
}

// Found from the per-objcg/per-memcg totals; named one by one when the
// state lists its objects, else counted (a summary: Monitor::check_summary).
void check_objects(const CheckContext& ctx, Report& report) {
  ctx.each_objcg_total(report, {1}, [&](ObjcgId objcg, const ObjcgObjectTotals& t) {
    if (!released_or_unknown(ctx, objcg)) return;
    if (!ctx.after.lists_objects()) {
      report.add(fmt::format("{} live objects hold {}", t.count, objcg_text(ctx, objcg)));
      return;
    }
    for (const auto& object : ctx.after.objects_holding_objcg(objcg))
      report.add(fmt::format("live {} object {} holds {}", alloc_kind_name(object.kind), object.key,
                             objcg_text(ctx, objcg)));
  });
  ctx.each_memcg_total(report, {2}, [&](MemcgId memcg, const MemcgObjectTotals& t) {
    if (!freed_or_unknown(ctx, memcg)) return;
    if (!ctx.after.lists_objects()) {
      report.add(fmt::format("{} live objects hold {}", t.count, memcg_text(ctx, memcg)));
      return;
    }
    for (const auto& object : ctx.after.objects_holding_memcg(memcg))
      report.add(fmt::format("live {} object {} holds {}", alloc_kind_name(object.kind), object.key,
                             memcg_text(ctx, memcg)));
  });
}

// Caches are listed by id from 1 (spec::Snapshot::cache).
const KmemCacheSnap* cache_by_id(const std::vector<KmemCacheSnap>& caches, CacheId id) {
  if (id >= 1 && id <= caches.size() && caches[id - 1].id == id) return &caches[id - 1];
  for (const auto& c : caches)
    if (c.id == id) return &c;
  return nullptr;
}

void check_stocks(const CheckContext& ctx, Report& report) {
  for (const auto& stock : ctx.after.stocks()) {
    for (const auto& slot : stock.page_stock)
      if (freed_or_unknown(ctx, slot.memcg))
        report.add("stock-dangling", stock.cpu,
                   fmt::format("CPU {}: page stock caches {} ({} pages)", stock.cpu,
                               memcg_text(ctx, slot.memcg), slot.nr_pages));
    if (stock.cached_objcg && released_or_unknown(ctx, *stock.cached_objcg))
      report.add(fmt::format("CPU {}: obj stock caches {} ({} bytes)", stock.cpu,
                             objcg_text(ctx, *stock.cached_objcg), stock.nr_bytes));
  }
  // Profiles with per-memcg kmem_caches: page->mem_cgroup of a live slab page
  // and memcg_params.memcg of a cache that is not destroyed.
  const auto& caches = ctx.after.caches();
  for (const auto& page : ctx.after.slab_pages()) {
    if (page.memcg && freed_or_unknown(ctx, *page.memcg))
      report.add(fmt::format("slab page {}: page->mem_cgroup is {}", page.id,
                             memcg_text(ctx, *page.memcg)));
    // A destroyed cache has no live page (v5.2 shuts a memcg's caches down
    // once they are empty, v5.3 once its pages' references are gone): a page
    // of one was allocated after free.
    if (const KmemCacheSnap* cache = cache_by_id(caches, page.cache);
        cache && cache->state == CacheState::destroyed)
      report.add("cache-freed", page.cache,
                 fmt::format("slab page {} belongs to kmem_cache {}, which was destroyed (an "
                             "allocation used the cache after its shutdown)",
                             page.id, page.cache));
  }
  for (const auto& cache : caches)
    if (cache.state != CacheState::destroyed && cache.memcg && freed_or_unknown(ctx, *cache.memcg))
      report.add(fmt::format("kmem_cache {}: memcg_params.memcg is {}", cache.id,
                             memcg_text(ctx, *cache.memcg)));
}

void check_pointers(const CheckContext& ctx, Report& report) {
  ctx.each_task(report, {4}, [&](const TaskSnap& task) {
    if (freed_or_unknown(ctx, task.memcg))
      report.add(fmt::format("task {} is in {}", task.key, memcg_text(ctx, task.memcg)));
  });
  ctx.each_memcg(report, {5}, [&](const CgroupSnap& cg) {
    if (cg.state == CgroupState::freed) return;
    if (cg.parent && freed_or_unknown(ctx, *cg.parent))
      report.add(fmt::format("{} ({}) has parent {}", ctx.memcg_name(cg), cgroup_state_name(cg.state),
                             memcg_text(ctx, *cg.parent)));
    if (cg.objcg && released_or_unknown(ctx, *cg.objcg))
      report.add(fmt::format("{}: memcg->objcg is {}", ctx.memcg_name(cg), objcg_text(ctx, *cg.objcg)));
  });
}

void check(const CheckContext& ctx, Report& report) {
  ctx.every_step(report, {0}, [&] { check_events(ctx, report); });
  check_objects(ctx, report);
  ctx.every_step(report, {3}, [&] { check_stocks(ctx, report); });
  check_pointers(ctx, report);
}

}  // namespace

InvariantDef no_uaf_invariant() {
  return {{"INV-NO-UAF",
           "no operation touches, and no live structure points at, a freed memcg or a released "
           "objcg",
           kStatement, kSources, kProfiles, all_profile_ids()},
          check};
}

}  // namespace mv::spec
