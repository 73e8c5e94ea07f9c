#include "spec/holders.h"

namespace mv::spec {

// Profile is ordered by kernel version (spec/profile.h).
bool profile_has_objcg(const ProfileTraits& traits) { return traits.profile >= Profile::v5_10; }

bool page_stock_holds_ref_per_page(const ProfileTraits& traits) {
  return traits.profile < Profile::v5_10;
}

bool objects_hold_memcg_directly(const ProfileTraits& traits) {
  return traits.kmem_pages == KmemPageCharging::memcg_css_ref;
}

std::int64_t CssHolders::total() const {
  std::int64_t sum = base_refs + kill_refs + id_refs + task_refs;
  sum += static_cast<std::int64_t>(children.size());
  for (const auto& s : page_stocks) sum += s.refs;
  for (const auto& o : objects) sum += o.refs;
  sum += static_cast<std::int64_t>(objcgs.size());
  return sum;
}

std::int64_t ObjcgHolders::total() const {
  std::int64_t sum = initial_refs + confirm_refs + static_cast<std::int64_t>(obj_stocks.size());
  for (const auto& o : objects) sum += o.refs;
  return sum;
}

std::int64_t object_refs(const ObjectSnap& object) {
  return object.nr_kmem_pages > 0 ? object.nr_kmem_pages : 1;
}

std::map<MemcgId, CssHolders> css_holders(const SnapshotIndex& index, const ProfileTraits& traits) {
  const Snapshot& snap = index.snap();
  std::map<MemcgId, CssHolders> holders;
  for (const auto& cg : snap.cgroups) {
    if (cg.state == CgroupState::freed) continue;
    CssHolders& h = holders[cg.id];
    h.base_refs = cg.state == CgroupState::online ? 1 : 0;  // cgroup core percpu_ref_init
    // kill_css: css_get + the switch's confirm reference, until the offline.
    h.kill_refs = cg.state == CgroupState::dying && !cg.offlined ? 2 : 0;
    h.id_refs = cg.offlined ? 0 : 1;                         // mem_cgroup_css_online
    for (MemcgId child : index.children(cg.id)) {
      const CgroupSnap* c = index.memcg(child);
      if (c && c->state != CgroupState::freed) h.children.push_back(child);
    }
  }
  auto holder_of = [&](MemcgId id) -> CssHolders* {
    auto it = holders.find(id);
    return it == holders.end() ? nullptr : &it->second;
  };
  for (const auto& task : snap.tasks)
    if (CssHolders* h = holder_of(task.memcg)) h->task_refs += 1;
  // __refill_stock css_get / drain_stock css_put (v5.9+); per page before.
  const bool per_page = page_stock_holds_ref_per_page(traits);
  for (const auto& stock : snap.stocks)
    for (const auto& slot : stock.page_stock)
      if (CssHolders* h = holder_of(slot.memcg))
        h->page_stocks.push_back({stock.cpu, slot.nr_pages, per_page ? slot.nr_pages : 1});
  // __memcg_kmem_charge_page (v5.10): page->mem_cgroup keeps the css reference.
  if (objects_hold_memcg_directly(traits)) {
    if (index.lists_objects()) {
      for (const auto& object : snap.objects)
        if (object.memcg)
          if (CssHolders* h = holder_of(*object.memcg))
            h->objects.push_back({object.key, object_refs(object)});
    } else {
      for (const auto& [memcg, t] : index.object_totals().by_memcg())
        if (CssHolders* h = holder_of(memcg)) h->objects.push_back({0, t.refs, t.count});
    }
  }
  // memcg_reparent_objcgs (v5.9-v5.13): css_get(&parent->css) per reparented
  // objcg, dropped by obj_cgroup_release's mem_cgroup_put.
  if (traits.reparented_objcg_holds_css)
    for (const auto& objcg : snap.objcgs)
      if (objcg.state == ObjcgState::reparented)
        if (CssHolders* h = holder_of(objcg.memcg)) h->objcgs.push_back(objcg.id);
  return holders;
}

std::map<ObjcgId, ObjcgHolders> objcg_holders(const SnapshotIndex& index) {
  const Snapshot& snap = index.snap();
  std::map<ObjcgId, ObjcgHolders> holders;
  for (const auto& objcg : snap.objcgs)
    if (objcg.state != ObjcgState::released) {
      holders[objcg.id].initial_refs = objcg.state == ObjcgState::active ? 1 : 0;
      // __percpu_ref_switch_to_atomic: "put after confirmation".
      holders[objcg.id].confirm_refs = objcg.switch_pending ? 1 : 0;
    }
  auto holder_of = [&](ObjcgId id) -> ObjcgHolders* {
    auto it = holders.find(id);
    return it == holders.end() ? nullptr : &it->second;
  };
  // memcg_slab_post_alloc_hook obj_cgroup_get; percpu keeps the pre-hook ref;
  // __memcg_kmem_charge_page keeps one per page (v5.13+).
  if (index.lists_objects()) {
    for (const auto& object : snap.objects)
      if (object.objcg)
        if (ObjcgHolders* h = holder_of(*object.objcg))
          h->objects.push_back({object.key, object_refs(object)});
  } else {
    for (const auto& [objcg, t] : index.object_totals().by_objcg())
      if (ObjcgHolders* h = holder_of(objcg)) h->objects.push_back({0, t.refs, t.count});
  }
  // refill_obj_stock / mod_objcg_state obj_cgroup_get when cached.
  for (const auto& stock : snap.stocks)
    if (stock.cached_objcg)
      if (ObjcgHolders* h = holder_of(*stock.cached_objcg)) h->obj_stocks.push_back(stock.cpu);
  return holders;
}

}  // namespace mv::spec
