// The StateView (spec/state_view.h) of one Snapshot, built for each step of a
// full check: memcgs and objcgs by id, the cgroup tree, page-stock totals,
// tasks per memcg, objcgs per target. Tolerates corrupt snapshots (ids that
// name nothing, parent cycles, ids out of place).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "spec/object_totals.h"
#include "spec/snapshot.h"
#include "spec/state_view.h"

namespace mv::spec {

class SnapshotIndex final : public StateView {
 public:
  explicit SnapshotIndex(const Snapshot& snap);
  // A summary: `snap` without its objects (Monitor::check_summary), and the
  // live objects' totals, which must outlive the index.
  SnapshotIndex(const Snapshot& snap, const ObjectTotals& object_totals);
  // The index of another snapshot (with the totals of a summary, or null),
  // as if made anew, keeping the storage of its tables: Monitor indexes two
  // snapshots on every step.
  void reset(const Snapshot& snap, const ObjectTotals* object_totals = nullptr);

  const Snapshot& snap() const { return *snap_; }

  const CgroupSnap* memcg(MemcgId id) const override;
  const ObjcgSnap* objcg(ObjcgId id) const override;
  std::int64_t subtree_stocked_pages(MemcgId id) const override;
  const StockSnap* stock(Cpu cpu) const override {
    return cpu < snap_->stocks.size() ? &snap_->stocks[cpu] : nullptr;
  }

  const Config& config() const override { return snap_->config; }
  const std::vector<CgroupSnap>& cgroups() const override { return snap_->cgroups; }
  const std::vector<ObjcgSnap>& objcgs() const override { return snap_->objcgs; }
  const std::vector<StockSnap>& stocks() const override { return snap_->stocks; }
  const std::vector<KmemCacheSnap>& caches() const override { return snap_->caches; }
  const std::vector<SlabPageSnap>& slab_pages() const override { return snap_->slab_pages; }
  const std::vector<Event>& events() const override { return snap_->events; }
  std::uint32_t pending_work() const override { return snap_->pending_work; }
  void each_task(const std::function<void(const TaskSnap&)>& fn) const override;
  const TaskSnap* task(TaskKey key) const override;

  std::vector<MemcgId> children(MemcgId id) const override;
  std::uint32_t children_not_freed(MemcgId id) const override;
  std::uint32_t tasks_in(MemcgId id) const override;
  std::int64_t stocked_pages(MemcgId id) const override;
  SubtreeHoldings subtree_holdings(MemcgId id) const override;
  std::vector<ObjcgId> objcgs_pointing_at(MemcgId id) const override;
  const CgroupSnap* online_memcg_at(PathKey path) const override;

  const ObjectTotals& object_totals() const override;
  bool lists_objects() const override { return external_totals_ == nullptr; }
  std::vector<ObjectSnap> objects_holding_objcg(ObjcgId id) const override;
  std::vector<ObjectSnap> objects_holding_memcg(MemcgId id) const override;

 private:
  // A table by memcg id: a vector for the ids below the number of memcgs
  // (every id a model makes), a map for the ids a corrupt snapshot names
  // beyond. The index is built for every step of a check: no node per entry.
  template <class T>
  class ById {
   public:
    void size_for(std::size_t n) {
      dense_.assign(n, T{});
      sparse_.clear();
    }
    T& operator[](MemcgId id) { return id < dense_.size() ? dense_[id] : sparse_[id]; }
    const T* find(MemcgId id) const {
      if (id < dense_.size()) return &dense_[id];
      auto it = sparse_.find(id);
      return it == sparse_.end() ? nullptr : &it->second;
    }
    // fn(id, value) for every id with an entry, dense ones first.
    template <class Fn>
    void each(const Fn& fn) const {
      for (std::size_t id = 0; id < dense_.size(); ++id) fn(static_cast<MemcgId>(id), dense_[id]);
      for (const auto& [id, value] : sparse_) fn(id, value);
    }

   private:
    std::vector<T> dense_;
    std::map<MemcgId, T> sparse_;
  };

  // Ids grouped by a memcg id (a child by its parent, an objcg by its
  // target), each group sorted: one array of (memcg, id) pairs.
  class Groups {
   public:
    void clear_for(std::size_t n) {
      pairs_.clear();
      pairs_.reserve(n);
    }
    void add(MemcgId key, std::uint32_t id) { pairs_.emplace_back(key, id); }
    void sort() { std::sort(pairs_.begin(), pairs_.end()); }
    // fn(id) for every id of key's group, in order.
    template <class Fn>
    void each(MemcgId key, const Fn& fn) const {
      auto it = std::lower_bound(pairs_.begin(), pairs_.end(), std::pair<MemcgId, std::uint32_t>{key, 0});
      for (; it != pairs_.end() && it->first == key; ++it) fn(it->second);
    }
    std::vector<std::uint32_t> of(MemcgId key) const {
      std::vector<std::uint32_t> ids;
      each(key, [&](std::uint32_t id) { ids.push_back(id); });
      return ids;
    }

   private:
    std::vector<std::pair<MemcgId, std::uint32_t>> pairs_;
  };

  // The tables beyond PriorView's lookups, each on first use: every step
  // asks for the counts, few for the groups (a dying memcg's children, the
  // objcgs at a memcg in v5.10) or the subtree stock sums (a failed charge).
  void tables() const {
    if (!tables_built_) build_tables();
  }
  void groups() const {
    if (!groups_built_) build_groups();
  }
  void build_tables() const;
  void build_groups() const;
  void compute_subtree_stocked() const;
  void compute_holdings() const;

  const Snapshot* snap_ = nullptr;
  // Models list memcg i at cgroups[i] and objcg i at objcgs[i - 1]; the maps
  // are only built for a snapshot that does not (a corrupt one).
  bool dense_memcgs_ = true;
  bool dense_objcgs_ = true;
  std::map<MemcgId, const CgroupSnap*> memcgs_;
  std::map<ObjcgId, const ObjcgSnap*> objcgs_;
  mutable bool tables_built_ = false;  // the counts:
  mutable ById<std::int64_t> stocked_;
  mutable ById<std::uint32_t> tasks_in_;
  mutable ById<std::uint32_t> children_not_freed_;  // INV-REF-BALANCE asks for every memcg
  mutable bool groups_built_ = false;
  mutable Groups children_;
  mutable Groups objcgs_at_;
  mutable bool subtree_stocked_built_ = false;
  mutable ById<std::int64_t> subtree_stocked_;
  mutable bool holdings_built_ = false;  // holdings_, on first use
  mutable ById<SubtreeHoldings> own_holdings_;  // compute_holdings' own amounts
  mutable ById<SubtreeHoldings> holdings_;
  const ObjectTotals* external_totals_ = nullptr;
  mutable std::optional<ObjectTotals> own_totals_;  // from snap().objects, on first use
};

}  // namespace mv::spec
