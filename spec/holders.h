// Who holds references to whom, enumerated from a snapshot for one profile
// (docs/MODEL-v6.6.md "Reference counts"; docs/DESIGNS.md for the older
// designs). INV-REF-BALANCE compares the counts with these holders; INV-NO-PIN
// asks which holders of a dying memcg the profile documents.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "spec/profile.h"
#include "spec/snapshot.h"
#include "spec/state_view.h"

namespace mv::spec {

// Profile facts the holder enumeration needs, derived from ProfileTraits.
// obj_cgroup exists (the v5.9 slab controller) and charges bytes.
bool profile_has_objcg(const ProfileTraits& traits);
// Before 1a3e1f40962c (v5.9) every stocked page held a css reference.
bool page_stock_holds_ref_per_page(const ProfileTraits& traits);
// The cached memcg of a stock slot holds a reference of its own (v5.9+, and
// the 4.19.y/5.4.y stable trees after GONG Ruiqi's fix).
bool page_stock_holds_ref_for_cached(const ProfileTraits& traits);
// Live objects may hold a memcg directly (page->mem_cgroup with a css
// reference): kmem pages before b4e0b68fbd9d (v5.13).
bool objects_hold_memcg_directly(const ProfileTraits& traits);
// Slab pages hold css references on page->mem_cgroup (v5.2, davydov-2014).
bool slab_pages_hold_memcg(const ProfileTraits& traits);
// memcg caches hold one css reference on memcg_params.memcg (v5.3).
bool caches_hold_memcg(const ProfileTraits& traits);

struct StockHolder {
  Cpu cpu = 0;
  std::uint32_t nr_pages = 0;
  std::int64_t refs = 0;
};

// The live objects holding one target, together (from ObjectTotals).
struct ObjectHolder {
  std::int64_t refs = 0;
  std::int64_t nr_objects = 0;
};

struct SlabPageHolder {
  SlabPageId page = 0;
  std::int64_t refs = 0;  // 1 << order
};

// The css references a memcg's holders account for.
struct CssHolders {
  std::int64_t base_refs = 0;           // 1 while online (dropped by percpu_ref_kill at rmdir)
  // While dying and not yet offlined: kill_css's css_get (put by
  // css_killed_work_fn after the offline) and the confirm reference of
  // percpu_ref_kill_and_confirm (put by the kill's RCU callback, which the
  // models run in the same deferred item as the offline): 2.
  std::int64_t kill_refs = 0;
  std::int64_t id_refs = 0;             // 1 until offlined (mem_cgroup_id_put)
  std::int64_t child_refs = 0;          // children not freed: css_free_rwork_fn puts the parent
  std::int64_t task_refs = 0;           // 1 per task (the css_set reference, once per task)
  std::vector<StockHolder> page_stocks;  // slots caching it
  std::vector<ObjectHolder> objects;    // live objects holding it directly (one entry, or none)
  std::vector<ObjcgId> objcgs;          // reparented objcgs holding a css reference
  std::vector<SlabPageHolder> slab_pages;  // v5.2, davydov-2014: page->mem_cgroup
  std::vector<CacheId> caches;          // v5.3: memcg caches whose memcg_params.memcg it is
  std::int64_t cache_work_refs = 0;     // queued kmem_cache work (CgroupSnap::cache_work_refs)
  std::int64_t total() const;
};

// The references an objcg's holders account for.
struct ObjcgHolders {
  std::int64_t initial_refs = 0;      // 1 while active (killed by memcg_reparent_objcgs)
  // 1 while the kill's switch to atomic mode waits for its RCU callback
  // (ObjcgSnap::switch_pending): the switch's confirm reference.
  std::int64_t confirm_refs = 0;
  std::vector<ObjectHolder> objects;  // slab/percpu 1, page/stack nr_kmem_pages (one entry, or none)
  std::vector<Cpu> obj_stocks;        // CPUs whose obj stock caches it
  // v6.7+ (the v6.16 profile): current->objcg of the tasks that cache it, and
  // memcg->orig_objcg of its origin memcg until that memcg is freed.
  std::vector<TaskKey> tasks;
  std::int64_t orig_refs = 0;
  std::int64_t total() const;
};

// The references a v5.3 memcg cache's percpu_ref holders account for.
struct CacheHolders {
  std::int64_t initial_refs = 0;          // 1 until percpu_ref_kill at deactivation
  std::vector<SlabPageHolder> slab_pages;  // 1 << order per slab page (memcg_charge_slab)
  std::int64_t total() const;
};

// References one live object holds on the objcg or memcg it names: one per
// separately charged kmem page, else one.
std::int64_t object_refs(const ObjectSnap& object);

// The holders of memcg `cg` (none for a freed one; the root has holders too,
// but its css is CSS_NO_REF, so its count stays 0 whatever holds it).
CssHolders css_holders(const StateView& view, const ProfileTraits& traits, const CgroupSnap& cg);
// css_holders(view, traits, cg).total() without listing the holders (no
// allocation): INV-REF-BALANCE counts every memcg on every step and lists
// the holders only of a count that differs.
std::int64_t css_held_refs(const StateView& view, const ProfileTraits& traits, const CgroupSnap& cg);
// The holders of objcg `objcg` (none for a released one).
ObjcgHolders objcg_holders(const StateView& view, const ObjcgSnap& objcg);
// objcg_holders(view, objcg).total(), without the lists.
std::int64_t objcg_held_refs(const StateView& view, const ObjcgSnap& objcg);
// Holders of every non-freed memcg / every objcg that is not released.
std::map<MemcgId, CssHolders> css_holders(const StateView& view, const ProfileTraits& traits);
std::map<ObjcgId, ObjcgHolders> objcg_holders(const StateView& view);
// Holders of every memcg cache that is not destroyed (v5.3).
std::map<CacheId, CacheHolders> cache_holders(const StateView& view);

}  // namespace mv::spec
