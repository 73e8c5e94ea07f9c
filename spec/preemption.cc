#include "spec/preemption.h"

namespace mv::spec {

const std::vector<PreemptPointInfo>& preempt_points() {
  static const std::vector<PreemptPointInfo> points = {
      {PreemptPoint::after_get_obj_cgroup_from_current, "after_get_obj_cgroup_from_current",
       "memcg_slab_pre_alloc_hook, pcpu_memcg_pre_alloc_hook, __memcg_kmem_charge_page",
       "get_obj_cgroup_from_current has returned the task's objcg with a reference; no RCU "
       "read-side critical section is open (the task may be migrated and its cgroup removed "
       "from here on)"},
      {PreemptPoint::before_css_tryget, "before_css_tryget", "get_mem_cgroup_from_objcg",
       "inside rcu_read_lock, `memcg = obj_cgroup_memcg(objcg)` has been read and "
       "`css_tryget(&memcg->css)` is next (eefbfa7fd678: css_get here revived a css at zero)"},
      {PreemptPoint::after_flush_required_check, "after_flush_required_check",
       "obj_stock_flush_required (drain_all_stock)",
       "inside rcu_read_lock and percpu_charge_mutex, the remote stock's cached_objcg has been "
       "read and found non-NULL; its memcg is read next (3b8abb323953, CVE-2023-53401: a second "
       "read here could see the NULL a remote drain left)"},
      {PreemptPoint::after_work_dequeued, "after_work_dequeued",
       "process_one_work, rcu_do_batch",
       "a deferred item has been taken off its queue and its PENDING bit cleared (it may be "
       "queued again from here on); it runs next"},
      {PreemptPoint::after_get_cache, "after_get_cache",
       "slab_alloc (v5.2 mm/slub.c, v5.4; davydov-2014 on 3.18): slab_pre_alloc_hook -> "
       "memcg_kmem_get_cache",
       "memcg_kmem_get_cache has returned the cache to allocate from: the task's memcg cache "
       "(v5.2 with the css reference of get_mem_cgroup_from_current, v5.3 with a percpu_ref_tryget "
       "of the cache, both dropped by memcg_kmem_put_cache after the allocation; davydov-2014 with "
       "none, its caches are never destroyed) or the root cache; no RCU read-side critical section "
       "is open, so the task may be migrated and its cgroup removed from here on (seed 002's "
       "race). Reached once per slab allocation on the profiles with per-memcg kmem_caches"},
      {PreemptPoint::before_objcg_tryget, "before_objcg_tryget",
       "get_obj_cgroup_from_current (__get_obj_cgroup_from_memcg; current_objcg_update on v6.16)",
       "inside rcu_read_lock, `objcg = rcu_dereference(memcg->objcg)` has been read non-NULL and "
       "`obj_cgroup_tryget(objcg)` is next (2f7659a31473 reset the candidate after a failed "
       "tryget here; the tryget cannot fail: the objcg's kill, after memcg->objcg is cleared, "
       "waits for this section's grace period before the count can reach zero)"},
  };
  return points;
}

std::string_view preempt_point_name(PreemptPoint point) {
  for (const auto& info : preempt_points())
    if (info.point == point) return info.name;
  return "?";
}

std::optional<PreemptPoint> parse_preempt_point(std::string_view name) {
  for (const auto& info : preempt_points())
    if (info.name == name) return info.point;
  return std::nullopt;
}

}  // namespace mv::spec
