// What the invariant checkers (spec/inv_*.cc) may ask about one state: its
// memcgs, objcgs, stocks, tasks and events, the live objects' totals, and the
// sums over subtrees the invariants compare counters with. Two views
// implement it: SnapshotIndex (spec/snapshot_index.h) indexes one Snapshot,
// built for each step of a full check, and IncrementalState
// (spec/incremental_state.h) keeps a state up to date from each step's
// changes, for Monitor's incremental check. The checkers are written once,
// against this interface. Both views tolerate corrupt states (ids that name
// nothing, parent cycles): a checker must report, never crash.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <vector>

#include "spec/object_totals.h"
#include "spec/snapshot.h"

namespace mv::spec {

// What the step invariants read of the state before a step.
class PriorView {
 public:
  virtual ~PriorView() = default;
  virtual const CgroupSnap* memcg(MemcgId id) const = 0;  // nullptr: no such memcg
  virtual const ObjcgSnap* objcg(ObjcgId id) const = 0;   // nullptr: no such objcg
  // Σ over id's subtree (itself and every descendant, any state, ancestors
  // taken from the parent links) of the page-stock pages cached for each.
  virtual std::int64_t subtree_stocked_pages(MemcgId id) const = 0;
  // The stock at stocks()[cpu] (nullptr past the last).
  virtual const StockSnap* stock(Cpu cpu) const = 0;
};

// INV-PAGE-CONSERVATION's sums over a memcg's subtree, counting only memcgs
// that exist and are not freed: page-stock pages cached for them, pages
// charged through the objcgs that are not released and point at them
// (ObjcgSnap::memcg), and pages of live objects charged to them directly.
struct SubtreeHoldings {
  std::int64_t stocked_pages = 0;
  std::int64_t objcg_pages = 0;
  std::int64_t direct_pages = 0;
  bool operator==(const SubtreeHoldings&) const = default;
};

class StateView : public PriorView {
 public:
  virtual const Config& config() const = 0;
  // Every memcg and objcg, in order (by id in a canonical state); stocks by CPU.
  virtual const std::vector<CgroupSnap>& cgroups() const = 0;
  virtual const std::vector<ObjcgSnap>& objcgs() const = 0;
  virtual const std::vector<StockSnap>& stocks() const = 0;
  virtual const std::vector<Event>& events() const = 0;  // cumulative over the run
  // Profiles with per-memcg kmem_caches (v5.2, v5.3, davydov-2014): every
  // kmem_cache and every live slab page. Empty in every other profile, and in
  // the incremental view, which does not follow them: Monitor checks those
  // profiles in full (Monitor::checks_incrementally).
  virtual const std::vector<KmemCacheSnap>& caches() const = 0;
  virtual const std::vector<SlabPageSnap>& slab_pages() const = 0;
  virtual std::uint32_t pending_work() const = 0;
  // The live tasks, by key.
  virtual void each_task(const std::function<void(const TaskSnap&)>& fn) const = 0;
  virtual const TaskSnap* task(TaskKey key) const = 0;

  // Children of id in every state, freed ones included, by id.
  virtual std::vector<MemcgId> children(MemcgId id) const = 0;
  // Children of id that are not freed (each holds a css reference on id).
  virtual std::uint32_t children_not_freed(MemcgId id) const = 0;
  // Live tasks whose memcg is id.
  virtual std::uint32_t tasks_in(MemcgId id) const = 0;
  // Σ over CPUs and slots of the page-stock pages cached for exactly `id`.
  virtual std::int64_t stocked_pages(MemcgId id) const = 0;
  virtual SubtreeHoldings subtree_holdings(MemcgId id) const = 0;
  // The objcgs whose objcg->memcg is id, in any state, by id.
  virtual std::vector<ObjcgId> objcgs_pointing_at(MemcgId id) const = 0;
  // The online memcg at `path` (the lowest id if a corrupt state has several).
  virtual const CgroupSnap* online_memcg_at(PathKey path) const = 0;

  // Σ over the live objects per objcg and per memcg: what the checkers use.
  virtual const ObjectTotals& object_totals() const = 0;
  // Whether the live objects can be named one by one (false for a summary,
  // Monitor::check_summary): only then do the next two list them.
  virtual bool lists_objects() const = 0;
  // The live objects whose ObjectSnap::objcg (::memcg) is id, by key.
  virtual std::vector<ObjectSnap> objects_holding_objcg(ObjcgId id) const = 0;
  virtual std::vector<ObjectSnap> objects_holding_memcg(MemcgId id) const = 0;

  // The stocks whose obj stock caches objcg id, in stocks() order.
  std::vector<const StockSnap*> obj_stocks_caching(ObjcgId id) const;
  // The same walk without the list: visit(stock) for each (the checkers ask
  // for every objcg on every step).
  template <class Visit>
  void each_obj_stock_caching(ObjcgId id, const Visit& visit) const {
    for (const auto& stock : stocks())
      if (stock.cached_objcg == id) visit(stock);
  }
  // The page-stock slots caching memcg id (stocks() order, then slot order).
  struct StockSlot {
    Cpu cpu;
    std::uint32_t nr_pages;
  };
  std::vector<StockSlot> page_stock_slots(MemcgId id) const;
  // The same walk without the list: visit(cpu, nr_pages) for each.
  template <class Visit>
  void each_page_stock_slot(MemcgId id, const Visit& visit) const {
    for (const auto& stock : stocks())
      for (const auto& slot : stock.page_stock)
        if (slot.memcg == id) visit(stock.cpu, slot.nr_pages);
  }

  // id, its parent, ..., the root: nearest first. Stops at a parent that does
  // not exist or that was already visited (a corrupt tree).
  std::vector<MemcgId> ancestors_or_self(MemcgId id) const;
  // The same walk without the list (for_each_ancestor_or_self below).
  template <class Visit>
  void each_ancestor_or_self(MemcgId id, const Visit& visit) const;
};

// The walk of ancestors_or_self over any memcg lookup, calling visit(id) for
// id, its parent, ..., the root, without building a list (the checkers sum
// over subtrees for every memcg on every step); a visit that returns bool
// stops the walk by returning false. Parents have smaller ids than
// their children in every state a model makes (a parent exists before its
// child), so the walk needs no visited set until a link breaks that order;
// from there it stops at the first memcg seen twice (a corrupt tree).
template <class Lookup, class Visit>
void for_each_ancestor_or_self(MemcgId id, const Lookup& memcg, const Visit& visit) {
  auto go_on = [&](MemcgId m) {
    if constexpr (std::is_same_v<std::invoke_result_t<const Visit&, MemcgId>, bool>) {
      return visit(m);
    } else {
      visit(m);
      return true;
    }
  };
  const CgroupSnap* cg = memcg(id);
  while (cg) {
    if (!go_on(cg->id)) return;
    if (!cg->parent) return;
    if (*cg->parent >= cg->id) break;
    cg = memcg(*cg->parent);
  }
  if (!cg) return;
  // Possibly a cycle. What was visited is the chain from id to cg (strictly
  // decreasing ids up to here).
  std::vector<MemcgId> seen;
  for (const CgroupSnap* c = memcg(id); c != cg; c = memcg(*c->parent)) seen.push_back(c->id);
  seen.push_back(cg->id);
  for (cg = memcg(*cg->parent); cg && std::find(seen.begin(), seen.end(), cg->id) == seen.end();
       cg = cg->parent ? memcg(*cg->parent) : nullptr) {
    seen.push_back(cg->id);
    if (!go_on(cg->id)) return;
  }
}

template <class Visit>
void StateView::each_ancestor_or_self(MemcgId id, const Visit& visit) const {
  for_each_ancestor_or_self(id, [this](MemcgId m) { return memcg(m); }, visit);
}

template <class Lookup>
std::vector<MemcgId> ancestors_or_self(MemcgId id, const Lookup& memcg) {
  std::vector<MemcgId> chain;
  for_each_ancestor_or_self(id, memcg, [&](MemcgId m) { chain.push_back(m); });
  return chain;
}

}  // namespace mv::spec
