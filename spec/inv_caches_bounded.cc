// INV-CACHES-BOUNDED: Davydov's claim (seed 003) as a checkable property: the
// per-memcg kmem_caches of one root cache never outnumber the largest number
// of memcgs that were online at the same time.
#include <map>

#include <fmt/format.h>

#include "spec/invariant_checks.h"

namespace mv::spec {

namespace {

constexpr std::string_view kStatement =
    "In the profiles with per-memcg kmem_caches: after every step, for every root cache R, the "
    "number of memcg caches whose root is R and that are not destroyed is at most "
    "`max_online_memcgs`, the largest number of non-root memcgs that were online at the same "
    "time at any step of the run so far (the current step included). Online is the kernel's "
    "sense: from `mem_cgroup_css_online` until `mem_cgroup_css_offline` has run (a removed "
    "cgroup whose offline is still queued keeps its kmemcg_id and counts). Every memcg that "
    "allocates from R gets at most one cache of R at a time, so a design that destroys the caches "
    "of a removed memcg, or hands them to the next memcg, keeps the count within that bound; a "
    "design that keeps the caches of removed memcgs around while anything else holds them "
    "does not.";

constexpr std::string_view kSources =
    "Vladimir Davydov, \"memcg: reuse per cgroup kmem caches\" (Nov 2014): \"The number of per "
    "cgroup caches of the same kind cannot be be greater than the maximal number of online kmem "
    "active memory cgroups that have ever existed simultaneously. Currently it is unlimited\"; "
    "its patches 1 (\"do not destroy kmem caches on css offline\"), 3 (\"decouple per memcg kmem "
    "cache from the owner memcg\") and 5 (\"free kmem cache id on css offline\"). v5.2 "
    "mm/slab_common.c `memcg_create_kmem_cache`, `memcg_deactivate_kmem_caches` (clears the "
    "`memcg_caches` entry), `memcg_destroy_kmem_caches` (at css_free); mm/memcontrol.c "
    "`memcg_alloc_cache_id` (`ida_simple_get`: the smallest free id), `memcg_offline_kmem` "
    "(`memcg_free_cache_id`). v5.4 `kmemcg_cache_shutdown` (a reparented cache lives until its "
    "percpu_ref reaches zero).";

constexpr std::string_view kProfiles =
    "**v5.2**: a removed memcg's caches are destroyed only at its css_free, which its own slab "
    "pages hold off, while its kmemcg_id goes to the next memcg with a new set of caches: the "
    "count grows with the dying memcgs. **v5.3**: a reparented cache lives until its last slab "
    "page is freed, so caches with live objects accumulate the same way. **davydov-2014**: the "
    "claim of the design: the next memcg takes over the dead memcg's kmemcg_id and its caches. "
    "**v5.10, v6.6, v6.16**: no per-memcg caches (objects are charged through objcgs); not "
    "applicable.";

void check(const CheckContext& ctx, Report& report) {
  std::map<CacheId, std::int64_t> per_root;
  for (const auto& cache : ctx.after.caches())
    if (cache.root && cache.state != CacheState::destroyed) per_root[*cache.root] += 1;
  const auto bound = static_cast<std::int64_t>(ctx.history.max_online_memcgs);
  for (const auto& [root, count] : per_root) {
    if (count <= bound) continue;
    const KmemCacheSnap* r = nullptr;
    for (const auto& cache : ctx.after.caches())
      if (cache.id == root) r = &cache;
    report.add("count", root, fmt::format(
        "root kmem_cache {} (object size {}): {} memcg caches exist, but at most {} memcgs were "
        "ever online at once",
        root, r ? r->object_size_bytes : 0, count, bound));
  }
}

}  // namespace

InvariantDef caches_bounded_invariant() {
  return {{"INV-CACHES-BOUNDED",
           "per-memcg kmem_caches of a root cache never outnumber the most memcgs ever online at "
           "once",
           kStatement, kSources, kProfiles, memcg_cache_profile_ids()},
          check};
}

}  // namespace mv::spec
