// The canonical snapshot of a model's state: what every model (reference/,
// impl/) must produce identically at a quiescent point between operations, and
// what every invariant (spec/invariants.h) is checked on. Plain values only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "spec/operation.h"
#include "spec/profile.h"

namespace mv::spec {

using MemcgId = std::uint32_t;  // creation order; the root memcg is 0
using ObjcgId = std::uint32_t;  // creation order, from 1
using CacheId = std::uint32_t;  // kmem_cache, creation order, from 1 (profiles with memcg caches)
using SlabPageId = std::uint32_t;  // slab page, allocation order, from 1

enum class CgroupState : std::uint8_t { online, dying, freed };
enum class ObjcgState : std::uint8_t { active, reparented, released };

struct CgroupSnap {
  MemcgId id = 0;
  PathKey path = kRootPath;
  std::optional<MemcgId> parent;  // nullopt for the root
  CgroupState state = CgroupState::online;
  bool offlined = false;        // mem_cgroup_css_offline has run (objcgs reparented)
  std::int64_t usage_pages = 0;  // page_counter usage (atomic_long_t)
  std::optional<std::uint64_t> max_pages;  // nullopt: "max" (PAGE_COUNTER_MAX)
  std::uint64_t failcnt = 0;
  std::uint64_t watermark_pages = 0;
  std::int64_t css_refs = 0;     // the root's css is CSS_NO_REF: always 0
  std::optional<ObjcgId> objcg;  // memcg->objcg (the root has none)
  std::uint32_t nr_tasks = 0;
  // memcg->kmemcg_id while it has one (profiles with memcg caches: the index
  // of its caches in each root cache's memcg_caches array).
  std::optional<std::uint32_t> kmemcg_id;
  // css references held by queued kmem_cache work: a cache creation
  // (memcg_schedule_kmem_cache_create) or, in v5.2, a deactivation
  // (slab_deactivate_memcg_cache_rcu_sched). 0 once quiesced.
  std::uint32_t cache_work_refs = 0;
  bool operator==(const CgroupSnap&) const = default;
};

struct ObjcgSnap {
  ObjcgId id = 0;
  MemcgId origin = 0;  // the memcg it was created for
  MemcgId memcg = 0;   // objcg->memcg (the parent after reparenting)
  ObjcgState state = ObjcgState::active;
  std::int64_t refs = 0;  // percpu_ref count, summed over CPUs; 0 once released
  // atomic_t nr_charged_bytes read as unsigned int; for a released objcg, the
  // value obj_cgroup_release saw.
  std::uint32_t nr_charged_bytes = 0;
  // Ghost counter (no kernel field): pages charged through this objcg
  // (obj_cgroup_charge_pages, forced or not) minus pages uncharged through it
  // (obj_cgroup_uncharge_pages, drain_obj_stock, obj_cgroup_release).
  std::int64_t charged_pages = 0;
  // Killed (percpu_ref_kill), and the switch to atomic mode still waits for
  // its RCU callback: the switch holds one more reference until then.
  bool switch_pending = false;
  bool operator==(const ObjcgSnap&) const = default;
};

// A kmem_cache in the profiles that have per-memcg caches (v5.2, v5.3,
// davydov-2014). A root cache is what a trace's slab object names (its
// `cache`, or the object size); a memcg cache is a child of one root cache.
enum class CacheState : std::uint8_t {
  active,       // reachable from its root's memcg_caches array (or a root cache)
  deactivated,  // offlined: no longer in the array (v5.2, v5.3), still has slab pages or a memcg
  destroyed,    // shut down (v5.2: at the memcg's css_free; v5.3: refcount reached zero)
};

struct KmemCacheSnap {
  CacheId id = 0;
  // The root cache: a trace-named cache (TraceNames::caches), or nullopt for
  // the cache of unnamed objects of object_size_bytes.
  std::optional<CacheKey> name;
  std::optional<CacheId> root;     // memcg_params.root_cache; nullopt for a root cache
  std::uint32_t object_size_bytes = 0;  // s->size
  std::uint32_t order = 0;              // oo_order(s->oo): the slab page order
  std::uint32_t objects_per_slab = 0;   // oo_objects(s->oo)
  std::optional<std::uint32_t> kmemcg_id;  // the array index of a memcg cache
  // The memcg it was created for (memcg_create_kmem_cache); nullopt for a root cache.
  std::optional<MemcgId> origin;
  // memcg_params.memcg: the memcg a v5.2/v5.3 memcg cache charges (after
  // reparenting, the parent's). nullopt for root caches and in davydov-2014.
  std::optional<MemcgId> memcg;
  CacheState state = CacheState::active;
  bool killed = false;  // v5.3: percpu_ref_kill has run (kmemcg_cache_deactivate_after_rcu)
  // v5.3: memcg_params.refcnt (percpu_ref): 1 initial until killed at
  // deactivation, plus 1 << order per slab page. 0 elsewhere.
  std::int64_t refs = 0;
  bool operator==(const KmemCacheSnap&) const = default;
};

// A slab page of a kmem_cache (profiles with memcg caches). Freed as soon as
// its last object is freed (docs/DESIGNS.md: the model's slab allocator).
struct SlabPageSnap {
  SlabPageId id = 0;
  CacheId cache = 0;
  std::uint32_t order = 0;
  std::uint32_t nr_objects = 0;  // live objects in it
  // Pages charged to a page_counter for it (1 << order, or 0: a root cache's
  // page, or a page whose charge went to the root).
  std::uint32_t charged_pages = 0;
  // page->mem_cgroup (v5.2, davydov-2014): the memcg charged, holding
  // charged_pages css references. In v5.3 the cache holds the charge instead.
  std::optional<MemcgId> memcg;
  bool operator==(const SlabPageSnap&) const = default;
};

struct PageStockSlot {
  MemcgId memcg = 0;  // stock->cached (holds one css reference)
  std::uint32_t nr_pages = 0;
  bool operator==(const PageStockSlot&) const = default;
};

struct StockSnap {
  Cpu cpu = 0;
  bool online = true;
  std::vector<PageStockSlot> page_stock;  // cached memcgs: at most one before v6.16
  std::optional<ObjcgId> cached_objcg;    // holds one objcg reference
  std::uint32_t nr_bytes = 0;             // unsigned int stock->nr_bytes
  bool flushing = false;                  // FLUSHING_CACHED_CHARGE (drain work queued)
  // v6.16: the obj stock's own FLUSHING_CACHED_CHARGE (struct obj_stock_pcp).
  bool obj_flushing = false;
  // v6.16: refill_stock's evictions so far on this CPU. The kernel picks the
  // slot with get_random_u32_below(NR_MEMCG_STOCK); the models draw the n-th
  // value of a fixed per-CPU sequence (arith/page_stock.h), so that a replay is
  // deterministic.
  std::uint32_t evictions = 0;
  bool operator==(const StockSnap&) const = default;
};

struct ObjectSnap {
  ObjKey key = 0;
  AllocKind kind = AllocKind::slab;
  std::uint64_t charged_bytes = 0;  // 0 when uncharged (a task of the root cgroup)
  std::optional<ObjcgId> objcg;     // the objcg it holds references on
  std::optional<MemcgId> memcg;     // a direct css holder (profiles before v5.13)
  // Separate kmem page *charges*, not pages: each __memcg_kmem_charge_page
  // call whose page holds one objcg reference in its memcg_data. A kmem page
  // of any order is 1 (charged_bytes has its size), a kernel stack
  // THREAD_SIZE / PAGE_SIZE (one charge per stack page); 0 for slab and
  // percpu objects, which hold one reference per object. The name is kept:
  // it is a field of the report (docs/TRACE_FORMAT.md), a contract.
  std::uint32_t nr_kmem_pages = 0;
  // The slab page a slab object lives in (profiles with memcg caches).
  std::optional<SlabPageId> slab_page;
  bool operator==(const ObjectSnap&) const = default;
};

struct TaskSnap {
  TaskKey key = 0;
  MemcgId memcg = 0;
  Cpu cpu = 0;
  // v6.7+ (v6.16 profile): current->objcg, the objcg the task caches with a
  // reference, and CURRENT_OBJCG_UPDATE_FLAG (set at fork and migration: the
  // next current_obj_cgroup() puts the old one and looks the new one up).
  std::optional<ObjcgId> objcg;
  bool objcg_update = false;
  bool operator==(const TaskSnap&) const = default;
};

// Something the kernel warns about, or misuse the model detected instead of
// crashing. Cumulative over a run.
enum class EventKind : std::uint8_t {
  page_counter_underflow,  // page_counter_cancel's WARN_ONCE; value: usage before the clamp
  css_ref_underflow,       // css_put below zero
  objcg_ref_underflow,     // obj_cgroup_put below zero
  memcg_use_after_free,    // an operation touched a freed memcg
  objcg_use_after_free,    // an operation touched a released objcg
  null_dereference,        // an operation dereferenced a NULL pointer (an oops); subject: a CPU
  // obj_cgroup_release's WARN_ON_ONCE(nr_bytes & (PAGE_SIZE - 1)) condition,
  // as the model computed it; subject: the objcg, value: the nr_bytes it read.
  // Recorded at every such release (the kernel prints only the first).
  release_unaligned,
  // Not a warning: try_charge's early return for the root memcg (<= v5.13,
  // ProfileTraits::try_charge_skips_root) met by a charge through an objcg,
  // which reaches the root only once reparented to it. Subject: the objcg,
  // value: the pages it counts as charged that no page_counter got (the
  // known kernel bug root_charge_skipped, spec/known_bug.cc).
  root_charge_skipped,
};

struct Event {
  EventKind kind;
  std::uint32_t subject = 0;  // MemcgId or ObjcgId
  std::int64_t value = 0;
  bool operator==(const Event&) const = default;
};

std::string_view event_kind_name(EventKind kind);

struct Snapshot {
  Config config;
  std::vector<CgroupSnap> cgroups;  // indexed by MemcgId, freed ones included
  std::vector<ObjcgSnap> objcgs;    // by id, released ones included
  std::vector<StockSnap> stocks;    // indexed by CPU
  std::vector<ObjectSnap> objects;  // live objects, by key
  std::vector<TaskSnap> tasks;      // live tasks, by key
  std::vector<KmemCacheSnap> caches;     // by id, destroyed ones included (memcg-cache profiles)
  std::vector<SlabPageSnap> slab_pages;  // live slab pages, by id (memcg-cache profiles)
  std::vector<Event> events;
  std::uint32_t pending_work = 0;   // deferred work items not yet run; 0 is quiescent

  const CgroupSnap& cgroup(MemcgId id) const { return cgroups.at(id); }
  const ObjcgSnap& objcg(ObjcgId id) const;
  const KmemCacheSnap* cache(CacheId id) const;  // nullptr: no such cache
  bool operator==(const Snapshot& other) const;
};

// For a model that writes a snapshot over an old one
// (Model::snapshot_without_objects_into): `stock` as StockSnap{}, `snap` as
// Snapshot{} but with as many stocks as it had (each reset), both keeping the
// storage of their lists, so that a run taking a snapshot on every step does
// not allocate them again on each.
void reset_keeping_storage(StockSnap& stock);
void reset_keeping_storage(Snapshot& snap);

std::string_view cgroup_state_name(CgroupState state);
std::string_view objcg_state_name(ObjcgState state);
std::string_view cache_state_name(CacheState state);

}  // namespace mv::spec
