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

namespace {

// The references each kind of holder accounts for: the one definition of
// the holders' weights, which both the listing (CssHolders::total) and the
// counting (css_held_refs) use.
struct RefCount {
  std::int64_t refs = 0;
  // A count of references kept in a field of CssHolders or ObjcgHolders.
  template <class Holders>
  void counted(std::int64_t Holders::*, std::int64_t n) {
    refs += n;
  }
  void page_stock(const StockHolder& s) { refs += s.refs; }
  void object(const ObjectHolder& o) { refs += o.refs; }
  void slab_page(const SlabPageHolder& p) { refs += p.refs; }
  void objcg(ObjcgId) { ++refs; }
  void cache(CacheId) { ++refs; }
  void obj_stock(Cpu) { ++refs; }
  void task(TaskKey) { ++refs; }
};

// Lists the holders: what css_holders and objcg_holders return.
struct CssList {
  CssHolders& h;
  void counted(std::int64_t CssHolders::*field, std::int64_t n) { h.*field = n; }
  void page_stock(const StockHolder& s) { h.page_stocks.push_back(s); }
  void object(const ObjectHolder& o) { h.objects.push_back(o); }
  void slab_page(const SlabPageHolder& p) { h.slab_pages.push_back(p); }
  void objcg(ObjcgId id) { h.objcgs.push_back(id); }
  void cache(CacheId id) { h.caches.push_back(id); }
};

struct ObjcgList {
  ObjcgHolders& h;
  void counted(std::int64_t ObjcgHolders::*field, std::int64_t n) { h.*field = n; }
  void object(const ObjectHolder& o) { h.objects.push_back(o); }
  void obj_stock(Cpu cpu) { h.obj_stocks.push_back(cpu); }
  void task(TaskKey key) { h.tasks.push_back(key); }
};

// The one enumeration of a memcg's css holders: passes each counted field
// and each listed holder to `sink` (a RefCount or a CssList).
template <class Sink>
void enumerate_css(const StateView& view, const ProfileTraits& traits, const CgroupSnap& cg,
                   Sink& sink) {
  if (cg.state == CgroupState::freed) return;
  // cgroup core percpu_ref_init, killed at rmdir.
  sink.counted(&CssHolders::base_refs, cg.state == CgroupState::online ? 1 : 0);
  // kill_css: css_get + the switch's confirm reference, until the offline.
  sink.counted(&CssHolders::kill_refs, cg.state == CgroupState::dying && !cg.offlined ? 2 : 0);
  sink.counted(&CssHolders::id_refs, cg.offlined ? 0 : 1);  // mem_cgroup_css_online
  // Queued kmem_cache work's css_get.
  sink.counted(&CssHolders::cache_work_refs, cg.cache_work_refs);
  sink.counted(&CssHolders::child_refs, view.children_not_freed(cg.id));
  sink.counted(&CssHolders::task_refs, view.tasks_in(cg.id));
  // refill_stock css_get / drain_stock css_put (v5.9+, and the stable fix);
  // try_charge's css_get_many per stocked page before v5.9.
  const bool per_page = page_stock_holds_ref_per_page(traits);
  const bool for_cached = page_stock_holds_ref_for_cached(traits);
  view.each_page_stock_slot(cg.id, [&](Cpu cpu, std::uint32_t nr_pages) {
    sink.page_stock({cpu, nr_pages, (per_page ? nr_pages : 0) + (for_cached ? 1 : 0)});
  });
  // __memcg_kmem_charge(_page) (<= v5.12): page->mem_cgroup keeps the css
  // references of its pages.
  if (objects_hold_memcg_directly(traits))
    if (const auto* t = view.object_totals().memcg(cg.id)) sink.object({t->refs, t->count});
  // v5.2 memcg_charge_slab / davydov-2014 memcg_kmem_commit_charge: a slab
  // page keeps try_charge's css reference per page on page->mem_cgroup.
  if (slab_pages_hold_memcg(traits))
    for (const auto& page : view.slab_pages())
      if (page.memcg == cg.id) sink.slab_page({page.id, page.charged_pages});
  // v5.3 memcg_link_cache css_get; memcg_deactivate_kmem_caches moves it to
  // the parent; destroy_memcg_params puts it.
  if (caches_hold_memcg(traits))
    for (const auto& cache : view.caches())
      if (cache.root && cache.memcg == cg.id && cache.state != CacheState::destroyed)
        sink.cache(cache.id);
  // memcg_reparent_objcgs (v5.9-v5.13): css_get(&parent->css) per reparented
  // objcg, dropped by obj_cgroup_release's mem_cgroup_put.
  if (traits.reparented_objcg_holds_css)
    for (ObjcgId id : view.objcgs_pointing_at(cg.id))
      if (view.objcg(id)->state == ObjcgState::reparented) sink.objcg(id);
}

// The one enumeration of an objcg's holders (see enumerate_css).
template <class Sink>
void enumerate_objcg(const StateView& view, const ObjcgSnap& objcg, Sink& sink) {
  if (objcg.state == ObjcgState::released) return;
  sink.counted(&ObjcgHolders::initial_refs, objcg.state == ObjcgState::active ? 1 : 0);
  // __percpu_ref_switch_to_atomic: "put after confirmation".
  sink.counted(&ObjcgHolders::confirm_refs, objcg.switch_pending ? 1 : 0);
  // memcg_slab_post_alloc_hook obj_cgroup_get; percpu keeps the pre-hook ref;
  // __memcg_kmem_charge_page keeps one per page (v5.13+).
  if (const auto* t = view.object_totals().objcg(objcg.id)) sink.object({t->refs, t->count});
  // refill_obj_stock / mod_objcg_state obj_cgroup_get when cached.
  view.each_obj_stock_caching(objcg.id, [&](const StockSnap& stock) { sink.obj_stock(stock.cpu); });
  if (view.config().profile_traits().objcg_refs_from_memcg_and_task) {
    // current_objcg_update's tryget, put by the next update or mem_cgroup_exit.
    view.each_task([&](const TaskSnap& t) {
      if (t.objcg == objcg.id) sink.task(t.key);
    });
    // memcg_online_kmem's obj_cgroup_get, put by __mem_cgroup_free.
    const CgroupSnap* origin = view.memcg(objcg.origin);
    sink.counted(&ObjcgHolders::orig_refs, origin && origin->state != CgroupState::freed ? 1 : 0);
  }
}

}  // namespace

std::int64_t CssHolders::total() const {
  RefCount c;
  for (auto field : {&CssHolders::base_refs, &CssHolders::kill_refs, &CssHolders::id_refs,
                     &CssHolders::task_refs, &CssHolders::cache_work_refs, &CssHolders::child_refs})
    c.counted(field, this->*field);
  for (const auto& s : page_stocks) c.page_stock(s);
  for (const auto& o : objects) c.object(o);
  for (const auto& p : slab_pages) c.slab_page(p);
  for (ObjcgId id : objcgs) c.objcg(id);
  for (CacheId id : caches) c.cache(id);
  return c.refs;
}

std::int64_t ObjcgHolders::total() const {
  RefCount c;
  for (auto field :
       {&ObjcgHolders::initial_refs, &ObjcgHolders::confirm_refs, &ObjcgHolders::orig_refs})
    c.counted(field, this->*field);
  for (const auto& o : objects) c.object(o);
  for (Cpu cpu : obj_stocks) c.obj_stock(cpu);
  for (TaskKey key : tasks) c.task(key);
  return c.refs;
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
  CssList list{h};
  enumerate_css(view, traits, cg, list);
  return h;
}

std::int64_t css_held_refs(const StateView& view, const ProfileTraits& traits,
                           const CgroupSnap& cg) {
  RefCount c;
  enumerate_css(view, traits, cg, c);
  return c.refs;
}

ObjcgHolders objcg_holders(const StateView& view, const ObjcgSnap& objcg) {
  ObjcgHolders h;
  ObjcgList list{h};
  enumerate_objcg(view, objcg, list);
  return h;
}

std::int64_t objcg_held_refs(const StateView& view, const ObjcgSnap& objcg) {
  RefCount c;
  enumerate_objcg(view, objcg, c);
  return c.refs;
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
