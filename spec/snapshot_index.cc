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
  for (const auto& stock : snap.stocks)
    for (const auto& slot : stock.page_stock) stocked_[slot.memcg] += slot.nr_pages;
  subtree_stocked_ = subtree_sums(stocked_);
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

std::vector<MemcgId> SnapshotIndex::ancestors_or_self(MemcgId id) const {
  // A chain is a few levels deep: looking back along it finds a cycle with
  // no std::set (this runs for every memcg on every step).
  std::vector<MemcgId> chain;
  for (const CgroupSnap* cg = memcg(id);
       cg && std::find(chain.begin(), chain.end(), cg->id) == chain.end();
       cg = cg->parent ? memcg(*cg->parent) : nullptr)
    chain.push_back(cg->id);
  return chain;
}

std::vector<MemcgId> SnapshotIndex::children(MemcgId id) const {
  auto it = children_.find(id);
  return it == children_.end() ? std::vector<MemcgId>{} : it->second;
}

std::int64_t SnapshotIndex::stocked_pages(MemcgId id) const {
  auto it = stocked_.find(id);
  return it == stocked_.end() ? 0 : it->second;
}

std::int64_t SnapshotIndex::subtree_stocked_pages(MemcgId id) const {
  auto it = subtree_stocked_.find(id);
  return it == subtree_stocked_.end() ? 0 : it->second;
}

std::map<MemcgId, std::int64_t> SnapshotIndex::subtree_sums(
    const std::map<MemcgId, std::int64_t>& own) const {
  std::map<MemcgId, std::int64_t> total;
  for (const auto& [id, amount] : own)
    for (MemcgId ancestor : ancestors_or_self(id)) total[ancestor] += amount;
  return total;
}

const CgroupSnap* SnapshotIndex::online_memcg_at(PathKey path) const {
  auto it = std::find_if(snap_->cgroups.begin(), snap_->cgroups.end(), [&](const CgroupSnap& cg) {
    return cg.path == path && cg.state == CgroupState::online;
  });
  return it == snap_->cgroups.end() ? nullptr : &*it;
}

}  // namespace mv::spec
