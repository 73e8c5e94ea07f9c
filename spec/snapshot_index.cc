#include "spec/snapshot_index.h"

#include <algorithm>
#include <type_traits>

namespace mv::spec {

namespace {

// Adds each memcg's own amount to itself and to all its ancestors: `total`
// maps every memcg to the sum over its subtree.
template <class Table, class Add>
void sum_over_subtrees(const StateView& view, const Table& own, Table& total, const Add& add) {
  own.each([&](MemcgId id, const auto& amount) {
    if (amount == std::decay_t<decltype(amount)>{}) return;
    view.each_ancestor_or_self(id, [&](MemcgId ancestor) { add(total[ancestor], amount); });
  });
}

}  // namespace

SnapshotIndex::SnapshotIndex(const Snapshot& snap) { reset(snap); }

SnapshotIndex::SnapshotIndex(const Snapshot& snap, const ObjectTotals& object_totals) {
  reset(snap, &object_totals);
}

void SnapshotIndex::reset(const Snapshot& snap, const ObjectTotals* object_totals) {
  snap_ = &snap;
  external_totals_ = object_totals;
  own_totals_.reset();
  tables_built_ = false;
  groups_built_ = false;
  subtree_stocked_built_ = false;
  holdings_built_ = false;
  dense_memcgs_ = true;
  dense_objcgs_ = true;
  memcgs_.clear();
  objcgs_.clear();
  for (std::size_t i = 0; i < snap.cgroups.size(); ++i)
    dense_memcgs_ = dense_memcgs_ && snap.cgroups[i].id == i;
  for (std::size_t i = 0; i < snap.objcgs.size(); ++i)
    dense_objcgs_ = dense_objcgs_ && snap.objcgs[i].id == i + 1;
  if (!dense_memcgs_)
    for (const auto& cg : snap.cgroups) memcgs_.emplace(cg.id, &cg);
  if (!dense_objcgs_)
    for (const auto& o : snap.objcgs) objcgs_.emplace(o.id, &o);
}

void SnapshotIndex::build_tables() const {
  tables_built_ = true;
  const std::size_t n = snap_->cgroups.size();
  stocked_.size_for(n);
  tasks_in_.size_for(n);
  children_not_freed_.size_for(n);
  for (const auto& cg : snap_->cgroups) {
    // By id, as children() lists them (a corrupt snapshot may list two
    // entries under one id).
    const CgroupSnap* child = memcg(cg.id);
    if (cg.parent && child && child->state != CgroupState::freed) ++children_not_freed_[*cg.parent];
  }
  for (const auto& stock : snap_->stocks)
    for (const auto& slot : stock.page_stock) stocked_[slot.memcg] += slot.nr_pages;
  for (const auto& task : snap_->tasks) ++tasks_in_[task.memcg];
}

void SnapshotIndex::build_groups() const {
  groups_built_ = true;
  children_.clear_for(snap_->cgroups.size());
  for (const auto& cg : snap_->cgroups)
    if (cg.parent) children_.add(*cg.parent, cg.id);
  children_.sort();
  objcgs_at_.clear_for(snap_->objcgs.size());
  for (const auto& o : snap_->objcgs) objcgs_at_.add(o.memcg, o.id);
  objcgs_at_.sort();
}

void SnapshotIndex::compute_subtree_stocked() const {
  tables();
  subtree_stocked_built_ = true;
  subtree_stocked_.size_for(snap_->cgroups.size());
  sum_over_subtrees(*this, stocked_, subtree_stocked_,
                    [](std::int64_t& total, std::int64_t amount) { total += amount; });
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
  groups();
  return children_.of(id);
}

std::uint32_t SnapshotIndex::children_not_freed(MemcgId id) const {
  tables();
  const auto* n = children_not_freed_.find(id);
  return n ? *n : 0;
}

std::uint32_t SnapshotIndex::tasks_in(MemcgId id) const {
  tables();
  const auto* n = tasks_in_.find(id);
  return n ? *n : 0;
}

std::int64_t SnapshotIndex::stocked_pages(MemcgId id) const {
  tables();
  const auto* pages = stocked_.find(id);
  return pages ? *pages : 0;
}

std::int64_t SnapshotIndex::subtree_stocked_pages(MemcgId id) const {
  if (!subtree_stocked_built_) compute_subtree_stocked();
  const auto* pages = subtree_stocked_.find(id);
  return pages ? *pages : 0;
}

// Each memcg's own holdings, counted only for memcgs that exist and are not
// freed, then summed over subtrees.
void SnapshotIndex::compute_holdings() const {
  auto live = [&](MemcgId m) {
    const CgroupSnap* cg = memcg(m);
    return cg && cg->state != CgroupState::freed;
  };
  ById<SubtreeHoldings>& own = own_holdings_;
  own.size_for(snap_->cgroups.size());
  for (const auto& cg : snap_->cgroups)
    if (cg.state != CgroupState::freed) own[cg.id].stocked_pages = stocked_pages(cg.id);
  for (const auto& o : snap_->objcgs)
    if (o.state != ObjcgState::released && live(o.memcg)) own[o.memcg].objcg_pages += o.charged_pages;
  for (const auto& [m, t] : object_totals().by_memcg())
    if (t.direct_pages != 0 && live(m)) own[m].direct_pages += t.direct_pages;
  holdings_built_ = true;
  holdings_.size_for(snap_->cgroups.size());
  sum_over_subtrees(*this, own, holdings_, [](SubtreeHoldings& total, const SubtreeHoldings& amount) {
    total.stocked_pages += amount.stocked_pages;
    total.objcg_pages += amount.objcg_pages;
    total.direct_pages += amount.direct_pages;
  });
}

SubtreeHoldings SnapshotIndex::subtree_holdings(MemcgId id) const {
  if (!holdings_built_) compute_holdings();
  const auto* holdings = holdings_.find(id);
  return holdings ? *holdings : SubtreeHoldings{};
}

std::vector<ObjcgId> SnapshotIndex::objcgs_pointing_at(MemcgId id) const {
  groups();
  return objcgs_at_.of(id);
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
