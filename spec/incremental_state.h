// A StateView (spec/state_view.h) kept up to date from each step's changes
// (spec/snapshot_delta.h), for Monitor::check_delta: a step costs its
// footprint times the hierarchy depth, not the size of the state. The sums
// over subtrees are kept per memcg and moved along the ancestors of what
// changed; the reverse links the checkers follow (tasks, objcgs and objects
// per memcg, memcgs per objcg) are kept as sets.
//
// After apply(), before() is the state before the step (only what the step
// invariants read of it: the memcgs and objcgs that changed, and the subtree
// stock sums that moved, are journaled), and affected() lists the anchors
// whose checks may have a different outcome: the changed entries and, from
// each, what a checker anchored elsewhere reads of it (invariant_checks.h):
//   memcg M changed:   M; if its state changed, its parent (children count,
//                      online child) and children (a freed parent), its
//                      tasks (a task in a freed memcg); the objcgs pointing
//                      at it or born in it (their target's state, memcg->objcg);
//                      if `offlined` changed, the objcgs born in its subtree
//                      (the nearest non-offlined ancestor); the memcgs whose
//                      subtree sums moved, and every dying ancestor (INV-NO-PIN
//                      classifies a dying memcg by its dying descendants).
//   objcg O changed:   O, the memcgs it pointed and points at, and the memcgs
//                      whose memcg->objcg is O.
//   stock changed:     the memcgs and objcgs it cached before and after.
//   task, object:      the memcg (objcg) before and after.
// A change this cannot follow (a memcg's parent changes, a memcg appears
// that another already named as parent, a delta that does not fit) rebuilds
// the state: everything is affected.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "spec/object_totals.h"
#include "spec/snapshot_delta.h"
#include "spec/snapshot_index.h"
#include "spec/state_view.h"

namespace mv::spec {

class IncrementalState final : public StateView {
 public:
  explicit IncrementalState(SnapshotStore initial);
  IncrementalState(const IncrementalState&) = delete;
  IncrementalState& operator=(const IncrementalState&) = delete;
  ~IncrementalState() override;

  // Brings the state forward by one step. False if the delta does not fit the
  // store (SnapshotStore::apply): nothing changed.
  bool apply(const SnapshotDelta& delta);
  // Brings the state to `now` in one go, when no delta could express the
  // step (SnapshotStore::of's nullopt: a non-canonical `now`): everything
  // is affected, before() is the state before. False if `now` is not canonical.
  bool reset(const Snapshot& now);

  struct Affected {
    bool everything = true;  // the first state, or a rebuild
    std::vector<MemcgId> memcgs;  // sorted
    std::vector<ObjcgId> objcgs;
    std::vector<TaskKey> tasks;
  };
  const Affected& affected() const { return affected_; }
  // The state before the last apply() (as after it before any).
  const PriorView& before() const;
  const SnapshotStore& store() const { return store_; }

  const CgroupSnap* memcg(MemcgId id) const override;
  const ObjcgSnap* objcg(ObjcgId id) const override;
  std::int64_t subtree_stocked_pages(MemcgId id) const override;
  const StockSnap* stock(Cpu cpu) const override {
    return cpu < store_.stocks.size() ? &store_.stocks[cpu] : nullptr;
  }

  const Config& config() const override { return store_.config; }
  const std::vector<CgroupSnap>& cgroups() const override { return store_.cgroups; }
  const std::vector<ObjcgSnap>& objcgs() const override { return store_.objcgs; }
  const std::vector<StockSnap>& stocks() const override { return store_.stocks; }
  // Not followed (spec/state_view.h): those profiles are checked in full.
  const std::vector<KmemCacheSnap>& caches() const override { return no_caches_; }
  const std::vector<SlabPageSnap>& slab_pages() const override { return no_slab_pages_; }
  const std::vector<Event>& events() const override { return store_.events; }
  std::uint32_t pending_work() const override { return store_.pending_work; }
  void each_task(const std::function<void(const TaskSnap&)>& fn) const override;
  const TaskSnap* task(TaskKey key) const override;

  std::vector<MemcgId> children(MemcgId id) const override;
  std::uint32_t children_not_freed(MemcgId id) const override;
  std::uint32_t tasks_in(MemcgId id) const override;
  std::int64_t stocked_pages(MemcgId id) const override;
  SubtreeHoldings subtree_holdings(MemcgId id) const override;
  std::vector<ObjcgId> objcgs_pointing_at(MemcgId id) const override;
  const CgroupSnap* online_memcg_at(PathKey path) const override;

  const ObjectTotals& object_totals() const override { return totals_; }
  bool lists_objects() const override { return true; }
  std::vector<ObjectSnap> objects_holding_objcg(ObjcgId id) const override;
  std::vector<ObjectSnap> objects_holding_memcg(MemcgId id) const override;

 private:
  using Ids = std::set<std::uint32_t>;
  // What a memcg adds to its subtree's sums (its own amounts, counted while it
  // is not freed), as last propagated to its ancestors.
  struct Own {
    std::int64_t stocked_pages = 0;  // every slot, any state (INV-LIMIT's stocked sum)
    SubtreeHoldings holdings;
    bool operator==(const Own&) const = default;
  };
  struct Sums {
    std::int64_t stocked_pages = 0;
    SubtreeHoldings holdings;
  };
  class Before;

  void build();  // every index and sum from store_
  void begin_step();
  template <class Change>
  void rebuild(Change change);  // change store_, then build(); before() is the old state
  bool fits(const SnapshotDelta& delta) const;  // without a rebuild
  void add_memcg_links(const CgroupSnap& cg, int sign);
  void add_objcg_links(const ObjcgSnap& o, int sign);
  void add_stock(const StockSnap& s, int sign);
  void add_task(const TaskSnap& t, int sign);
  void add_object(const ObjectSnap& o, int sign);
  Own own_now(MemcgId id) const;
  void propagate(MemcgId id);  // moves id's Own change along its ancestors
  void memcg_changed(const CgroupSnap* old, const CgroupSnap& now);
  void objcg_changed(const ObjcgSnap* old, const ObjcgSnap& now);
  void add_dying_ancestors();
  void objcgs_born_below(MemcgId id);
  void finish_affected();

  SnapshotStore store_;
  ObjectTotals totals_;
  std::unordered_map<MemcgId, std::vector<MemcgId>> children_;
  std::unordered_map<MemcgId, std::uint32_t> children_not_freed_;
  std::unordered_map<MemcgId, Ids> tasks_in_;
  std::unordered_map<MemcgId, Ids> objcgs_at_;        // by ObjcgSnap::memcg
  std::unordered_map<MemcgId, Ids> objcgs_born_in_;   // by ObjcgSnap::origin
  std::unordered_map<ObjcgId, Ids> memcgs_with_objcg_;  // by CgroupSnap::objcg
  std::unordered_map<ObjcgId, std::set<ObjKey>> objects_of_objcg_;
  std::unordered_map<MemcgId, std::set<ObjKey>> objects_of_memcg_;
  std::map<PathKey, Ids> online_at_;
  std::unordered_map<MemcgId, std::int64_t> stocked_;      // Σ slots caching it
  std::unordered_map<MemcgId, std::int64_t> objcg_pages_;  // Σ charged_pages of unreleased objcgs at it
  std::vector<Own> propagated_;  // by MemcgId
  std::vector<Sums> sums_;       // by MemcgId
  std::vector<std::uint64_t> walked_;  // by MemcgId: add_dying_ancestors' marks
  std::uint64_t walk_ = 0;

  // The step being applied.
  Affected affected_;
  Ids memcgs_, objcgs_, tasks_;  // affected, while collecting
  std::set<MemcgId> refresh_;    // whose Own may have changed
  std::unordered_map<MemcgId, std::optional<CgroupSnap>> before_memcgs_;
  std::unordered_map<ObjcgId, std::optional<ObjcgSnap>> before_objcgs_;
  std::unordered_map<MemcgId, std::int64_t> before_stocked_sums_;
  std::unordered_map<Cpu, StockSnap> before_stocks_;  // the stocks that changed
  std::unique_ptr<Before> before_;
  // After a rebuild: the whole state before it.
  std::unique_ptr<Snapshot> rebuilt_from_;
  std::unique_ptr<SnapshotIndex> rebuilt_index_;
  const std::vector<KmemCacheSnap> no_caches_;
  const std::vector<SlabPageSnap> no_slab_pages_;
};

}  // namespace mv::spec
