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
  bool operator==(const ObjectSnap&) const = default;
};

struct TaskSnap {
  TaskKey key = 0;
  MemcgId memcg = 0;
  Cpu cpu = 0;
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
  std::vector<Event> events;
  std::uint32_t pending_work = 0;   // deferred work items not yet run; 0 is quiescent

  const CgroupSnap& cgroup(MemcgId id) const { return cgroups.at(id); }
  const ObjcgSnap& objcg(ObjcgId id) const;
  bool operator==(const Snapshot& other) const;
};

std::string_view cgroup_state_name(CgroupState state);
std::string_view objcg_state_name(ObjcgState state);

}  // namespace mv::spec
