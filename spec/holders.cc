#include "spec/holders.h"

namespace mv::spec {

bool profile_has_objcg(const ProfileTraits& traits) { return traits.has_objcg(); }

bool page_stock_holds_ref_per_page(const ProfileTraits& traits) {
  return traits.stock_refs != StockCssRefs::cached;
}

bool page_stock_holds_ref_for_cached(const ProfileTraits& traits) {
  return traits.stock_refs != StockCssRefs::per_page;
}

bool objects_hold_memcg_directly(const ProfileTraits& traits) {
  return traits.kmem_pages == KmemPageCharging::memcg_css_ref;
}

bool slab_pages_hold_memcg(const ProfileTraits& traits) {
  return traits.slab == SlabCharging::memcg_cache_pages ||
         traits.slab == SlabCharging::recharged_cache_pages;
}

bool caches_hold_memcg(const ProfileTraits& traits) {
  return traits.slab == SlabCharging::reparented_cache_pages;
}

std::int64_t CssHolders::total() const {
  std::int64_t sum = base_refs + kill_refs + id_refs + task_refs + cache_work_refs;
  sum += child_refs;
  for (const auto& s : page_stocks) sum += s.refs;
  for (const auto& o : objects) sum += o.refs;
  for (const auto& p : slab_pages) sum += p.refs;
  sum += static_cast<std::int64_t>(objcgs.size() + caches.size());
  return sum;
}

std::int64_t ObjcgHolders::total() const {
  std::int64_t sum = initial_refs + confirm_refs + orig_refs +
                     static_cast<std::int64_t>(obj_stocks.size() + tasks.size());
  for (const auto& o : objects) sum += o.refs;
  return sum;
}

std::int64_t CacheHolders::total() const {
  std::int64_t sum = initial_refs;
  for (const auto& p : slab_pages) sum += p.refs;
  return sum;
}

std::int64_t object_refs(const ObjectSnap& object) {
  return object.nr_kmem_pages > 0 ? object.nr_kmem_pages : 1;
}

CssHolders css_holders(const StateView& view, const ProfileTraits& traits, const CgroupSnap& cg) {
  CssHolders h;
  if (cg.state == CgroupState::freed) return h;
  h.base_refs = cg.state == CgroupState::online ? 1 : 0;  // cgroup core percpu_ref_init
  // kill_css: css_get + the switch's confirm reference, until the offline.
  h.kill_refs = cg.state == CgroupState::dying && !cg.offlined ? 2 : 0;
  h.id_refs = cg.offlined ? 0 : 1;                         // mem_cgroup_css_online
  h.cache_work_refs = cg.cache_work_refs;                  // queued kmem_cache work's css_get
  h.child_refs = view.children_not_freed(cg.id);
  h.task_refs = view.tasks_in(cg.id);
  // refill_stock css_get / drain_stock css_put (v5.9+, and the stable fix);
  // try_charge's css_get_many per stocked page before v5.9.
  const bool per_page = page_stock_holds_ref_per_page(traits);
  const bool for_cached = page_stock_holds_ref_for_cached(traits);
  for (const auto& slot : view.page_stock_slots(cg.id))
    h.page_stocks.push_back(
        {slot.cpu, slot.nr_pages, (per_page ? slot.nr_pages : 0) + (for_cached ? 1 : 0)});
  // __memcg_kmem_charge(_page) (<= v5.12): page->mem_cgroup keeps the css
  // references of its pages.
  if (objects_hold_memcg_directly(traits))
    if (const auto* t = view.object_totals().memcg(cg.id)) h.objects.push_back({t->refs, t->count});
  // v5.2 memcg_charge_slab / davydov-2014 memcg_kmem_commit_charge: a slab
  // page keeps try_charge's css reference per page on page->mem_cgroup.
  if (slab_pages_hold_memcg(traits))
    for (const auto& page : view.slab_pages())
      if (page.memcg == cg.id) h.slab_pages.push_back({page.id, page.charged_pages});
  // v5.3 memcg_link_cache css_get; memcg_deactivate_kmem_caches moves it to
  // the parent; destroy_memcg_params puts it.
  if (caches_hold_memcg(traits))
    for (const auto& cache : view.caches())
      if (cache.root && cache.memcg == cg.id && cache.state != CacheState::destroyed)
        h.caches.push_back(cache.id);
  // memcg_reparent_objcgs (v5.9-v5.13): css_get(&parent->css) per reparented
  // objcg, dropped by obj_cgroup_release's mem_cgroup_put.
  if (traits.reparented_objcg_holds_css)
    for (ObjcgId id : view.objcgs_pointing_at(cg.id))
      if (view.objcg(id)->state == ObjcgState::reparented) h.objcgs.push_back(id);
  return h;
}

ObjcgHolders objcg_holders(const StateView& view, const ObjcgSnap& objcg) {
  ObjcgHolders h;
  if (objcg.state == ObjcgState::released) return h;
  h.initial_refs = objcg.state == ObjcgState::active ? 1 : 0;
  // __percpu_ref_switch_to_atomic: "put after confirmation".
  h.confirm_refs = objcg.switch_pending ? 1 : 0;
  // memcg_slab_post_alloc_hook obj_cgroup_get; percpu keeps the pre-hook ref;
  // __memcg_kmem_charge_page keeps one per page (v5.13+).
  if (const auto* t = view.object_totals().objcg(objcg.id)) h.objects.push_back({t->refs, t->count});
  // refill_obj_stock / mod_objcg_state obj_cgroup_get when cached.
  for (const StockSnap* stock : view.obj_stocks_caching(objcg.id)) h.obj_stocks.push_back(stock->cpu);
  if (view.config().profile_traits().objcg_refs_from_memcg_and_task) {
    // current_objcg_update's tryget, put by the next update or mem_cgroup_exit.
    view.each_task([&](const TaskSnap& t) {
      if (t.objcg == objcg.id) h.tasks.push_back(t.key);
    });
    // memcg_online_kmem's obj_cgroup_get, put by __mem_cgroup_free.
    const CgroupSnap* origin = view.memcg(objcg.origin);
    h.orig_refs = origin && origin->state != CgroupState::freed ? 1 : 0;
  }
  return h;
}

std::map<MemcgId, CssHolders> css_holders(const StateView& view, const ProfileTraits& traits) {
  std::map<MemcgId, CssHolders> holders;
  for (const auto& cg : view.cgroups())
    if (cg.state != CgroupState::freed) holders.emplace(cg.id, css_holders(view, traits, cg));
  return holders;
}

std::map<ObjcgId, ObjcgHolders> objcg_holders(const StateView& view) {
  std::map<ObjcgId, ObjcgHolders> holders;
  for (const auto& objcg : view.objcgs())
    if (objcg.state != ObjcgState::released) holders.emplace(objcg.id, objcg_holders(view, objcg));
  return holders;
}

std::map<CacheId, CacheHolders> cache_holders(const StateView& view) {
  std::map<CacheId, CacheHolders> holders;
  for (const auto& cache : view.caches())
    if (cache.root && cache.state != CacheState::destroyed)
      holders[cache.id].initial_refs = cache.killed ? 0 : 1;  // init_memcg_params percpu_ref_init
  for (const auto& page : view.slab_pages())
    if (auto it = holders.find(page.cache); it != holders.end())
      it->second.slab_pages.push_back({page.id, std::int64_t{1} << page.order});
  return holders;
}

}  // namespace mv::spec
