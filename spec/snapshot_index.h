// The StateView (spec/state_view.h) of one Snapshot, built for each step of a
// full check: memcgs and objcgs by id, the cgroup tree, page-stock totals,
// tasks per memcg, objcgs per target. Tolerates corrupt snapshots (ids that
// name nothing, parent cycles, ids out of place).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
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

  // Adds each memcg's own amount to itself and to all its ancestors: the
  // result maps every memcg to the total over its subtree.
  std::map<MemcgId, std::int64_t> subtree_sums(const std::map<MemcgId, std::int64_t>& own) const;

 private:
  const Snapshot* snap_;
  // Models list memcg i at cgroups[i] and objcg i at objcgs[i - 1]; the maps
  // are only built for a snapshot that does not (a corrupt one).
  bool dense_memcgs_ = true;
  bool dense_objcgs_ = true;
  std::map<MemcgId, const CgroupSnap*> memcgs_;
  std::map<ObjcgId, const ObjcgSnap*> objcgs_;
  std::map<MemcgId, std::vector<MemcgId>> children_;
  std::map<MemcgId, std::int64_t> stocked_;
  std::map<MemcgId, std::int64_t> subtree_stocked_;
  std::map<MemcgId, std::uint32_t> tasks_in_;
  std::map<MemcgId, std::vector<ObjcgId>> objcgs_at_;
  mutable std::optional<std::map<MemcgId, SubtreeHoldings>> holdings_;  // on first use
  const ObjectTotals* external_totals_ = nullptr;
  mutable std::optional<ObjectTotals> own_totals_;  // from snap().objects, on first use
};

}  // namespace mv::spec
