// INV-REPARENT: after a memcg's offline, none of its objcgs points at it any
// more; every objcg points at the nearest memcg that is not offlined.
#include <fmt/format.h>

#include "spec/invariant_checks.h"

namespace mv::spec {

namespace {

constexpr std::string_view kStatement =
    "For every objcg O that is not released, `O.memcg` (`objcg->memcg`) is the nearest memcg on "
    "the path from O's origin memcg (the one `memcg_online_kmem` created it for) up to the root "
    "that has not been offlined: the origin itself while it is online or dying but not yet "
    "offlined, otherwise the ancestor that every `memcg_reparent_objcgs` on the way moved it to. "
    "Consequently no non-released objcg points at an offlined or freed memcg. In addition, for "
    "every offlined memcg M, `M.objcg` is empty (`rcu_replace_pointer(memcg->objcg, NULL)`); for "
    "every memcg M that is not offlined, `M.objcg`, if set, names an active objcg whose origin "
    "and `memcg` are M; and an objcg is active exactly when it is its origin's `memcg->objcg` "
    "(reparenting kills the percpu_ref and makes it `reparented`). In the profiles that reparent "
    "kmem_caches instead (v5.3), the same holds for every memcg cache C that is not destroyed: "
    "`memcg_params.memcg` is the nearest memcg on the path from the memcg C was created for up "
    "to the root that has not been offlined, and an offlined memcg's caches are no longer active "
    "(`memcg_deactivate_kmem_caches` clears their `memcg_caches` entries).";

constexpr std::string_view kSources =
    "mm/memcontrol.c v6.6 `memcg_online_kmem` (`objcg->memcg = memcg; "
    "rcu_assign_pointer(memcg->objcg, objcg)`), `memcg_offline_kmem` (reparents to "
    "`parent_mem_cgroup(memcg)`; the root is never offlined), `memcg_reparent_objcgs` "
    "(`objcg = rcu_replace_pointer(memcg->objcg, NULL, true)`, `list_add(&objcg->list, "
    "&memcg->objcg_list)`, `WRITE_ONCE(iter->memcg, parent)` for every objcg on the list, "
    "`list_splice` onto the parent's, `percpu_ref_kill`); v5.10 `memcg_reparent_objcgs` (same "
    "moves, with css references; `xchg(&objcg->memcg, parent)`). docs/KERNEL.md section 10, "
    "item 6.";

constexpr std::string_view kProfiles =
    "**v5.2, davydov-2014**: nothing is reparented (v5.2's slab pages keep pointing at the dying "
    "memcg; Davydov's caches point at no memcg at all); not applicable. **v5.3**: checked on "
    "kmem_caches (`memcg_deactivate_kmem_caches`: `WRITE_ONCE(s->memcg_params.memcg, parent)`, "
    "`css_put` on the child, `css_get_many` on the parent). **v5.10, v6.6, v6.16**: checked on "
    "objcgs; the same pointer moves, whether or not the objcg holds a css reference on its new "
    "memcg (v5.10 does). From v6.7 `memcg->orig_objcg` keeps pointing at the original objcg "
    "until css_free; that is a separate field, not `memcg->objcg`.";

// The nearest ancestor-or-self of `origin` that has not been offlined.
const CgroupSnap* expected_memcg(const CheckContext& ctx, MemcgId origin) {
  const CgroupSnap* found = nullptr;
  ctx.after.each_ancestor_or_self(origin, [&](MemcgId id) {
    const CgroupSnap* cg = ctx.after.memcg(id);
    if (!cg->offlined) found = cg;
    return found == nullptr;
  });
  return found;
}

void check_objcg_targets(const CheckContext& ctx, Report& report) {
  ctx.each_objcg(report, {0}, [&](const ObjcgSnap& objcg) {
    if (objcg.state == ObjcgState::released) return;
    const CgroupSnap* expected = expected_memcg(ctx, objcg.origin);
    if (expected && objcg.memcg == expected->id) return;
    const CgroupSnap* actual = ctx.after.memcg(objcg.memcg);
    std::string actual_text =
        actual ? fmt::format("{} ({}{})", ctx.memcg_name(*actual), cgroup_state_name(actual->state),
                             actual->offlined && actual->state != CgroupState::freed ? ", offlined" : "")
               : fmt::format("memcg {}, which does not exist", objcg.memcg);
    report.add(fmt::format("{} objcg {} of {}: objcg->memcg is {}, expected {}",
                           objcg_state_name(objcg.state), objcg.id,
                           ctx.memcg_name(objcg.origin, ctx.after), actual_text,
                           expected ? ctx.memcg_name(*expected) : "no live ancestor"));
  });
}

void check_memcg_pointers(const CheckContext& ctx, Report& report) {
  ctx.each_memcg(report, {1}, [&](const CgroupSnap& cg) {
    if (!cg.objcg) return;
    if (cg.offlined) {
      report.add(fmt::format("{} is offlined but memcg->objcg is still objcg {}", ctx.memcg_name(cg),
                             *cg.objcg));
      return;
    }
    const ObjcgSnap* o = ctx.after.objcg(*cg.objcg);
    if (o && (o->state != ObjcgState::active || o->origin != cg.id || o->memcg != cg.id))
      report.add(fmt::format("{}: memcg->objcg is objcg {} ({}, origin memcg {}, memcg {})",
                             ctx.memcg_name(cg), o->id, objcg_state_name(o->state), o->origin,
                             o->memcg));
  });
}

void check_active_objcgs(const CheckContext& ctx, Report& report) {
  ctx.each_objcg(report, {2}, [&](const ObjcgSnap& objcg) {
    if (objcg.state != ObjcgState::active) return;
    const CgroupSnap* origin = ctx.after.memcg(objcg.origin);
    if (!origin || origin->objcg != objcg.id)
      report.add(fmt::format("objcg {} is active but is not memcg->objcg of its origin {}", objcg.id,
                             ctx.memcg_name(objcg.origin, ctx.after)));
  });
}

void check_cache_targets(const CheckContext& ctx, Report& report) {
  for (const auto& cache : ctx.after.caches()) {
    if (!cache.root || !cache.origin || cache.state == CacheState::destroyed) continue;
    const CgroupSnap* expected = expected_memcg(ctx, *cache.origin);
    if (cache.memcg && expected && *cache.memcg == expected->id) {
      if (cache.state == CacheState::active && expected->id != *cache.origin)
        report.add(fmt::format("kmem_cache {} of offlined {} is still active", cache.id,
                               ctx.memcg_name(*cache.origin, ctx.after)));
      continue;
    }
    report.add(fmt::format("kmem_cache {} of {}: memcg_params.memcg is {}, expected {}", cache.id,
                           ctx.memcg_name(*cache.origin, ctx.after),
                           cache.memcg ? ctx.memcg_name(*cache.memcg, ctx.after) : "none",
                           expected ? ctx.memcg_name(*expected) : "no live ancestor"));
  }
}

void check(const CheckContext& ctx, Report& report) {
  if (ctx.traits.slab == SlabCharging::reparented_cache_pages) {
    check_cache_targets(ctx, report);
    return;
  }
  check_objcg_targets(ctx, report);
  check_memcg_pointers(ctx, report);
  check_active_objcgs(ctx, report);
}

}  // namespace

InvariantDef reparent_invariant() {
  return {{"INV-REPARENT",
           "after offline, no objcg (v5.3: no kmem_cache) points at the removed memcg and its "
           "objcg pointer is cleared",
           kStatement, kSources, kProfiles, reparenting_profile_ids()},
          check};
}

}  // namespace mv::spec
