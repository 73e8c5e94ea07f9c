#include "spec/snapshot_index.h"

#include <algorithm>

namespace mv::spec {

SnapshotIndex::SnapshotIndex(const Snapshot& snap) : snap_(&snap) {
  for (std::size_t i = 0; i < snap.cgroups.size(); ++i)
    dense_memcgs_ = dense_memcgs_ && snap.cgroups[i].id == i;
  for (std::size_t i = 0; i < snap.objcgs.size(); ++i)
    dense_objcgs_ = dense_objcgs_ && snap.objcgs[i].id == i + 1;
  if (!dense_memcgs_)
    for (const auto& cg : snap.cgroups) memcgs_.emplace(cg.id, &cg);
  if (!dense_objcgs_)
    for (const auto& o : snap.objcgs) objcgs_.emplace(o.id, &o);
  for (const auto& cg : snap.cgroups)
    if (cg.parent) children_[*cg.parent].push_back(cg.id);
  for (auto& [parent, ids] : children_) std::sort(ids.begin(), ids.end());
  for (const auto& stock : snap.stocks)
    for (const auto& slot : stock.page_stock) stocked_[slot.memcg] += slot.nr_pages;
  subtree_stocked_ = subtree_sums(stocked_);
  for (const auto& task : snap.tasks) ++tasks_in_[task.memcg];
  for (const auto& o : snap.objcgs) objcgs_at_[o.memcg].push_back(o.id);
  for (auto& [memcg, ids] : objcgs_at_) std::sort(ids.begin(), ids.end());
}

SnapshotIndex::SnapshotIndex(const Snapshot& snap, const ObjectTotals& object_totals)
    : SnapshotIndex(snap) {
  external_totals_ = &object_totals;
}

const ObjectTotals& SnapshotIndex::object_totals() const {
  if (external_totals_) return *external_totals_;
  if (!own_totals_) own_totals_ = ObjectTotals::of(snap_->objects, snap_->config.page());
  return *own_totals_;
}

const CgroupSnap* SnapshotIndex::memcg(MemcgId id) const {
  if (dense_memcgs_) return id < snap_->cgroups.size() ? &snap_->cgroups[id] : nullptr;
  auto it = memcgs_.find(id);
  return it == memcgs_.end() ? nullptr : it->second;
}

const ObjcgSnap* SnapshotIndex::objcg(ObjcgId id) const {
  if (dense_objcgs_)
    return id >= 1 && id <= snap_->objcgs.size() ? &snap_->objcgs[id - 1] : nullptr;
  auto it = objcgs_.find(id);
  return it == objcgs_.end() ? nullptr : it->second;
}

void SnapshotIndex::each_task(const std::function<void(const TaskSnap&)>& fn) const {
  for (const auto& task : snap_->tasks) fn(task);
}

const TaskSnap* SnapshotIndex::task(TaskKey key) const {
  auto it = std::find_if(snap_->tasks.begin(), snap_->tasks.end(),
                         [&](const TaskSnap& t) { return t.key == key; });
  return it == snap_->tasks.end() ? nullptr : &*it;
}

std::vector<MemcgId> SnapshotIndex::children(MemcgId id) const {
  auto it = children_.find(id);
  return it == children_.end() ? std::vector<MemcgId>{} : it->second;
}

std::uint32_t SnapshotIndex::children_not_freed(MemcgId id) const {
  std::uint32_t n = 0;
  for (MemcgId child : children(id)) {
    const CgroupSnap* c = memcg(child);
    if (c && c->state != CgroupState::freed) ++n;
  }
  return n;
}

std::uint32_t SnapshotIndex::tasks_in(MemcgId id) const {
  auto it = tasks_in_.find(id);
  return it == tasks_in_.end() ? 0 : it->second;
}

std::int64_t SnapshotIndex::stocked_pages(MemcgId id) const {
  auto it = stocked_.find(id);
  return it == stocked_.end() ? 0 : it->second;
}

std::int64_t SnapshotIndex::subtree_stocked_pages(MemcgId id) const {
  auto it = subtree_stocked_.find(id);
  return it == subtree_stocked_.end() ? 0 : it->second;
}

SubtreeHoldings SnapshotIndex::subtree_holdings(MemcgId id) const {
  if (!holdings_) {
    // Each memcg's own holdings, counted only for memcgs that exist and are
    // not freed, then summed over subtrees.
    auto live = [&](MemcgId m) {
      const CgroupSnap* cg = memcg(m);
      return cg && cg->state != CgroupState::freed;
    };
    std::map<MemcgId, std::int64_t> stocked, through_objcgs, direct;
    for (const auto& cg : snap_->cgroups)
      if (cg.state != CgroupState::freed) stocked[cg.id] = stocked_pages(cg.id);
    for (const auto& o : snap_->objcgs)
      if (o.state != ObjcgState::released && live(o.memcg)) through_objcgs[o.memcg] += o.charged_pages;
    for (const auto& [m, t] : object_totals().by_memcg())
      if (t.direct_pages != 0 && live(m)) direct[m] += t.direct_pages;
    holdings_.emplace();
    for (const auto& [m, total] : subtree_sums(stocked)) (*holdings_)[m].stocked_pages = total;
    for (const auto& [m, total] : subtree_sums(through_objcgs)) (*holdings_)[m].objcg_pages = total;
    for (const auto& [m, total] : subtree_sums(direct)) (*holdings_)[m].direct_pages = total;
  }
  auto it = holdings_->find(id);
  return it == holdings_->end() ? SubtreeHoldings{} : it->second;
}

std::vector<ObjcgId> SnapshotIndex::objcgs_pointing_at(MemcgId id) const {
  auto it = objcgs_at_.find(id);
  return it == objcgs_at_.end() ? std::vector<ObjcgId>{} : it->second;
}

std::map<MemcgId, std::int64_t> SnapshotIndex::subtree_sums(
    const std::map<MemcgId, std::int64_t>& own) const {
  std::map<MemcgId, std::int64_t> total;
  for (const auto& [id, amount] : own)
    each_ancestor_or_self(id, [&total, amount = amount](MemcgId ancestor) { total[ancestor] += amount; });
  return total;
}

const CgroupSnap* SnapshotIndex::online_memcg_at(PathKey path) const {
  const CgroupSnap* found = nullptr;
  for (const auto& cg : snap_->cgroups)
    if (cg.path == path && cg.state == CgroupState::online && (!found || cg.id < found->id)) found = &cg;
  return found;
}

std::vector<ObjectSnap> SnapshotIndex::objects_holding_objcg(ObjcgId id) const {
  std::vector<ObjectSnap> out;
  if (lists_objects())
    for (const auto& o : snap_->objects)
      if (o.objcg == id) out.push_back(o);
  return out;
}

std::vector<ObjectSnap> SnapshotIndex::objects_holding_memcg(MemcgId id) const {
  std::vector<ObjectSnap> out;
  if (lists_objects())
    for (const auto& o : snap_->objects)
      if (o.memcg == id) out.push_back(o);
  return out;
}

}  // namespace mv::spec
