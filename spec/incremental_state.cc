#include "spec/incremental_state.h"

#include <algorithm>

namespace mv::spec {

namespace {

template <class Map, class Key>
void link(Map& map, Key key, std::uint32_t value, int sign) {
  if (sign > 0) {
    map[key].insert(value);
    return;
  }
  auto it = map.find(key);
  if (it == map.end()) return;
  it->second.erase(value);
  if (it->second.empty()) map.erase(it);
}

template <class Map, class Key>
const typename Map::mapped_type* find_in(const Map& map, Key key) {
  auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
}

SubtreeHoldings& operator+=(SubtreeHoldings& a, const SubtreeHoldings& b) {
  a.stocked_pages += b.stocked_pages;
  a.objcg_pages += b.objcg_pages;
  a.direct_pages += b.direct_pages;
  return a;
}

SubtreeHoldings minus(const SubtreeHoldings& a, const SubtreeHoldings& b) {
  return {a.stocked_pages - b.stocked_pages, a.objcg_pages - b.objcg_pages,
          a.direct_pages - b.direct_pages};
}

std::vector<std::uint32_t> sorted(const std::set<std::uint32_t>& ids) { return {ids.begin(), ids.end()}; }

}  // namespace

// The state before the last apply(): the journaled entries over the current ones.
class IncrementalState::Before final : public PriorView {
 public:
  explicit Before(const IncrementalState& s) : s_(s) {}
  const CgroupSnap* memcg(MemcgId id) const override {
    if (s_.rebuilt_index_) return s_.rebuilt_index_->memcg(id);
    auto it = s_.before_memcgs_.find(id);
    if (it == s_.before_memcgs_.end()) return s_.memcg(id);
    return it->second ? &*it->second : nullptr;
  }
  const ObjcgSnap* objcg(ObjcgId id) const override {
    if (s_.rebuilt_index_) return s_.rebuilt_index_->objcg(id);
    auto it = s_.before_objcgs_.find(id);
    if (it == s_.before_objcgs_.end()) return s_.objcg(id);
    return it->second ? &*it->second : nullptr;
  }
  std::int64_t subtree_stocked_pages(MemcgId id) const override {
    if (s_.rebuilt_index_) return s_.rebuilt_index_->subtree_stocked_pages(id);
    auto it = s_.before_stocked_sums_.find(id);
    return it == s_.before_stocked_sums_.end() ? s_.subtree_stocked_pages(id) : it->second;
  }
  const StockSnap* stock(Cpu cpu) const override {
    if (s_.rebuilt_index_) return s_.rebuilt_index_->stock(cpu);
    auto it = s_.before_stocks_.find(cpu);
    return it == s_.before_stocks_.end() ? s_.stock(cpu) : &it->second;
  }

 private:
  const IncrementalState& s_;
};

IncrementalState::IncrementalState(SnapshotStore initial)
    : store_(std::move(initial)), totals_(store_.config.page()), before_(std::make_unique<Before>(*this)) {
  build();
}

IncrementalState::~IncrementalState() = default;

const PriorView& IncrementalState::before() const { return *before_; }

void IncrementalState::build() {
  totals_ = ObjectTotals(store_.config.page());
  children_.clear();
  children_not_freed_.clear();
  tasks_in_.clear();
  objcgs_at_.clear();
  objcgs_born_in_.clear();
  memcgs_with_objcg_.clear();
  objects_of_objcg_.clear();
  objects_of_memcg_.clear();
  online_at_.clear();
  stocked_.clear();
  objcg_pages_.clear();
  for (const auto& cg : store_.cgroups) {
    if (cg.parent) {
      children_[*cg.parent].push_back(cg.id);
      if (cg.state != CgroupState::freed) ++children_not_freed_[*cg.parent];
    }
    add_memcg_links(cg, +1);
  }
  for (const auto& o : store_.objcgs) add_objcg_links(o, +1);
  for (const auto& s : store_.stocks) add_stock(s, +1);
  for (const auto& [key, t] : store_.tasks) add_task(t, +1);
  for (const auto& [key, o] : store_.objects) add_object(o, +1);
  propagated_.assign(store_.cgroups.size(), Own{});
  sums_.assign(store_.cgroups.size(), Sums{});
  for (MemcgId id = 0; id < store_.cgroups.size(); ++id) propagate(id);
  affected_ = Affected{};
  memcgs_.clear();
  before_stocked_sums_.clear();
}

// --- the reverse links ---

void IncrementalState::add_memcg_links(const CgroupSnap& cg, int sign) {
  if (cg.state == CgroupState::online) link(online_at_, cg.path, cg.id, sign);
  if (cg.objcg) link(memcgs_with_objcg_, *cg.objcg, cg.id, sign);
}

void IncrementalState::add_objcg_links(const ObjcgSnap& o, int sign) {
  link(objcgs_at_, o.memcg, o.id, sign);
  link(objcgs_born_in_, o.origin, o.id, sign);
  if (o.state != ObjcgState::released) objcg_pages_[o.memcg] += sign * o.charged_pages;
}

void IncrementalState::add_stock(const StockSnap& s, int sign) {
  for (const auto& slot : s.page_stock) stocked_[slot.memcg] += sign * std::int64_t{slot.nr_pages};
}

void IncrementalState::add_task(const TaskSnap& t, int sign) { link(tasks_in_, t.memcg, t.key, sign); }

void IncrementalState::add_object(const ObjectSnap& o, int sign) {
  if (sign > 0)
    totals_.add(o);
  else
    totals_.remove(o);
  if (o.objcg) link(objects_of_objcg_, *o.objcg, o.key, sign);
  if (o.memcg) link(objects_of_memcg_, *o.memcg, o.key, sign);
}

// --- the sums over subtrees ---

IncrementalState::Own IncrementalState::own_now(MemcgId id) const {
  Own own;
  if (auto* s = find_in(stocked_, id)) own.stocked_pages = *s;
  const CgroupSnap* cg = memcg(id);
  if (!cg || cg->state == CgroupState::freed) return own;  // its holdings do not count
  own.holdings.stocked_pages = own.stocked_pages;
  if (auto* p = find_in(objcg_pages_, id)) own.holdings.objcg_pages = *p;
  if (const auto* t = totals_.memcg(id)) own.holdings.direct_pages = t->direct_pages;
  return own;
}

void IncrementalState::propagate(MemcgId id) {
  if (id >= propagated_.size()) return;  // names no memcg: nothing above it
  const Own now = own_now(id);
  Own& was = propagated_[id];
  if (now == was) return;
  const std::int64_t stocked = now.stocked_pages - was.stocked_pages;
  const SubtreeHoldings holdings = minus(now.holdings, was.holdings);
  each_ancestor_or_self(id, [&](MemcgId m) {
    before_stocked_sums_.emplace(m, sums_[m].stocked_pages);
    sums_[m].stocked_pages += stocked;
    sums_[m].holdings += holdings;
    memcgs_.insert(m);
  });
  was = now;
}

// --- one step ---

bool IncrementalState::fits(const SnapshotDelta& delta) const {
  for (const auto& cg : delta.cgroups) {
    if (cg.id < store_.cgroups.size()) {
      if (store_.cgroups[cg.id].parent != cg.parent) return false;  // the tree moved
    } else if (children_.count(cg.id)) {
      return false;  // a memcg already named as a parent appears
    }
  }
  return true;
}

void IncrementalState::begin_step() {
  affected_ = Affected{};
  affected_.everything = false;
  memcgs_.clear();
  objcgs_.clear();
  tasks_.clear();
  refresh_.clear();
  before_memcgs_.clear();
  before_objcgs_.clear();
  before_stocked_sums_.clear();
  before_stocks_.clear();
  rebuilt_index_.reset();
  rebuilt_from_.reset();
}

bool IncrementalState::apply(const SnapshotDelta& delta) {
  if (!store_.fits(delta)) return false;
  begin_step();
  if (!fits(delta)) {
    rebuild([&] { store_.apply(delta); });
    return true;  // affected_.everything
  }
  for (const auto& cg : delta.cgroups)
    memcg_changed(cg.id < store_.cgroups.size() ? &store_.cgroups[cg.id] : nullptr, cg);
  for (const auto& o : delta.objcgs)
    objcg_changed(o.id <= store_.objcgs.size() ? &store_.objcgs[o.id - 1] : nullptr, o);
  for (const auto& s : delta.stocks) {
    StockSnap& stock = store_.stocks[s.cpu];
    for (const StockSnap* side : {static_cast<const StockSnap*>(&stock), &s}) {
      for (const auto& slot : side->page_stock) {
        memcgs_.insert(slot.memcg);
        refresh_.insert(slot.memcg);
      }
      if (side->cached_objcg) objcgs_.insert(*side->cached_objcg);
    }
    add_stock(stock, -1);
    before_stocks_.emplace(s.cpu, stock);
    stock = s;
    add_stock(stock, +1);
  }
  auto task_gone = [&](TaskKey key) {
    auto it = store_.tasks.find(key);
    if (it == store_.tasks.end()) return;
    add_task(it->second, -1);
    memcgs_.insert(it->second.memcg);
    tasks_.insert(key);
    store_.tasks.erase(it);
  };
  for (TaskKey key : delta.tasks_gone) task_gone(key);
  for (const auto& t : delta.tasks) {
    task_gone(t.key);
    store_.tasks.emplace(t.key, t);
    add_task(t, +1);
    memcgs_.insert(t.memcg);
    tasks_.insert(t.key);
  }
  auto object_touched = [&](const ObjectSnap& o) {
    if (o.objcg) objcgs_.insert(*o.objcg);
    if (o.memcg) {
      memcgs_.insert(*o.memcg);
      refresh_.insert(*o.memcg);
    }
  };
  auto object_gone = [&](ObjKey key) {
    auto it = store_.objects.find(key);
    if (it == store_.objects.end()) return;
    add_object(it->second, -1);
    object_touched(it->second);
    store_.objects.erase(it);
  };
  for (ObjKey key : delta.objects_gone) object_gone(key);
  for (const auto& o : delta.objects) {
    object_gone(o.key);
    store_.objects.emplace(o.key, o);
    add_object(o, +1);
    object_touched(o);
  }
  store_.events.insert(store_.events.end(), delta.events.begin(), delta.events.end());
  store_.pending_work = delta.pending_work;
  finish_affected();
  return true;
}

template <class Change>
void IncrementalState::rebuild(Change change) {
  rebuilt_from_ = std::make_unique<Snapshot>(store_.snapshot());
  rebuilt_index_ = std::make_unique<SnapshotIndex>(*rebuilt_from_);
  change();
  build();
}

bool IncrementalState::reset(const Snapshot& now) {
  auto store = SnapshotStore::of(now);
  if (!store) return false;
  begin_step();
  rebuild([&] { store_ = std::move(*store); });
  return true;
}

void IncrementalState::memcg_changed(const CgroupSnap* old, const CgroupSnap& now) {
  before_memcgs_.emplace(now.id, old ? std::optional<CgroupSnap>(*old) : std::nullopt);
  const bool is_new = !old;
  const bool state_changed = is_new || old->state != now.state;
  const bool offlined_changed = is_new || old->offlined != now.offlined;
  const bool objcg_changed = is_new || old->objcg != now.objcg;
  if (is_new) {
    if (now.parent) children_[*now.parent].push_back(now.id);
    propagated_.push_back(Own{});
    sums_.push_back(Sums{});
    store_.cgroups.push_back(now);
  } else {
    add_memcg_links(*old, -1);
    if (objcg_changed && old->objcg) objcgs_.insert(*old->objcg);
    if (now.parent && old->state != CgroupState::freed) --children_not_freed_[*now.parent];
    store_.cgroups[now.id] = now;
  }
  if (now.parent && now.state != CgroupState::freed) ++children_not_freed_[*now.parent];
  add_memcg_links(now, +1);
  memcgs_.insert(now.id);
  if (state_changed) {
    if (now.parent) memcgs_.insert(*now.parent);
    if (auto* kids = find_in(children_, now.id)) memcgs_.insert(kids->begin(), kids->end());
    if (auto* tasks = find_in(tasks_in_, now.id)) tasks_.insert(tasks->begin(), tasks->end());
    refresh_.insert(now.id);
  }
  if (state_changed || offlined_changed)
    if (auto* at = find_in(objcgs_at_, now.id)) objcgs_.insert(at->begin(), at->end());
  if (objcg_changed) {
    if (auto* born = find_in(objcgs_born_in_, now.id)) objcgs_.insert(born->begin(), born->end());
    if (now.objcg) objcgs_.insert(*now.objcg);
  }
  if (offlined_changed) objcgs_born_below(now.id);
}

void IncrementalState::objcg_changed(const ObjcgSnap* old, const ObjcgSnap& now) {
  before_objcgs_.emplace(now.id, old ? std::optional<ObjcgSnap>(*old) : std::nullopt);
  const bool seen_changed = !old || old->state != now.state || old->origin != now.origin ||
                            old->memcg != now.memcg;
  if (old) {
    add_objcg_links(*old, -1);
    refresh_.insert(old->memcg);
    memcgs_.insert(old->memcg);
    memcgs_.insert(old->origin);
    store_.objcgs[now.id - 1] = now;
  } else {
    store_.objcgs.push_back(now);
  }
  add_objcg_links(now, +1);
  refresh_.insert(now.memcg);
  memcgs_.insert(now.memcg);
  memcgs_.insert(now.origin);
  objcgs_.insert(now.id);
  if (seen_changed)
    if (auto* with = find_in(memcgs_with_objcg_, now.id)) memcgs_.insert(with->begin(), with->end());
}

// The objcgs born in id's subtree: their nearest non-offlined ancestor may move.
void IncrementalState::objcgs_born_below(MemcgId id) {
  std::vector<MemcgId> todo{id};
  std::set<MemcgId> seen{id};
  while (!todo.empty()) {
    MemcgId m = todo.back();
    todo.pop_back();
    if (auto* born = find_in(objcgs_born_in_, m)) objcgs_.insert(born->begin(), born->end());
    if (auto* kids = find_in(children_, m))
      for (MemcgId child : *kids)
        if (seen.insert(child).second) todo.push_back(child);
  }
}

// INV-NO-PIN classifies a dying memcg by its dying descendants: a change
// anywhere below one may change its verdict.
void IncrementalState::add_dying_ancestors() {
  // Each memcg is walked through once per step (walked_ marks it with the
  // step's number), so the walks cost the union of the seeds' chains.
  walked_.resize(store_.cgroups.size(), 0);
  ++walk_;
  const std::vector<MemcgId> seeds(memcgs_.begin(), memcgs_.end());
  for (MemcgId seed : seeds) {
    for (const CgroupSnap* cg = memcg(seed); cg && cg->parent;) {
      const MemcgId parent = *cg->parent;
      cg = memcg(parent);
      if (!cg || walked_[parent] == walk_) break;
      walked_[parent] = walk_;
      if (cg->state == CgroupState::dying) memcgs_.insert(parent);
    }
  }
}

void IncrementalState::finish_affected() {
  for (MemcgId id : refresh_) propagate(id);
  add_dying_ancestors();
  affected_.memcgs = sorted(memcgs_);
  affected_.objcgs = sorted(objcgs_);
  affected_.tasks = sorted(tasks_);
}

// --- the view ---

const CgroupSnap* IncrementalState::memcg(MemcgId id) const {
  return id < store_.cgroups.size() ? &store_.cgroups[id] : nullptr;
}

const ObjcgSnap* IncrementalState::objcg(ObjcgId id) const {
  return id >= 1 && id <= store_.objcgs.size() ? &store_.objcgs[id - 1] : nullptr;
}

std::int64_t IncrementalState::subtree_stocked_pages(MemcgId id) const {
  return id < sums_.size() ? sums_[id].stocked_pages : 0;
}

void IncrementalState::each_task(const std::function<void(const TaskSnap&)>& fn) const {
  for (const auto& [key, t] : store_.tasks) fn(t);
}

const TaskSnap* IncrementalState::task(TaskKey key) const {
  auto it = store_.tasks.find(key);
  return it == store_.tasks.end() ? nullptr : &it->second;
}

std::vector<MemcgId> IncrementalState::children(MemcgId id) const {
  auto* kids = find_in(children_, id);
  return kids ? *kids : std::vector<MemcgId>{};
}

std::uint32_t IncrementalState::children_not_freed(MemcgId id) const {
  auto* n = find_in(children_not_freed_, id);
  return n ? *n : 0;
}

std::uint32_t IncrementalState::tasks_in(MemcgId id) const {
  auto* tasks = find_in(tasks_in_, id);
  return tasks ? static_cast<std::uint32_t>(tasks->size()) : 0;
}

std::int64_t IncrementalState::stocked_pages(MemcgId id) const {
  auto* s = find_in(stocked_, id);
  return s ? *s : 0;
}

SubtreeHoldings IncrementalState::subtree_holdings(MemcgId id) const {
  return id < sums_.size() ? sums_[id].holdings : SubtreeHoldings{};
}

std::vector<ObjcgId> IncrementalState::objcgs_pointing_at(MemcgId id) const {
  auto* at = find_in(objcgs_at_, id);
  return at ? sorted(*at) : std::vector<ObjcgId>{};
}

const CgroupSnap* IncrementalState::online_memcg_at(PathKey path) const {
  auto* ids = find_in(online_at_, path);
  return ids ? memcg(*ids->begin()) : nullptr;
}

std::vector<ObjectSnap> IncrementalState::objects_holding_objcg(ObjcgId id) const {
  std::vector<ObjectSnap> out;
  if (auto* keys = find_in(objects_of_objcg_, id))
    for (ObjKey key : *keys) out.push_back(store_.objects.at(key));
  return out;
}

std::vector<ObjectSnap> IncrementalState::objects_holding_memcg(MemcgId id) const {
  std::vector<ObjectSnap> out;
  if (auto* keys = find_in(objects_of_memcg_, id))
    for (ObjKey key : *keys) out.push_back(store_.objects.at(key));
  return out;
}

}  // namespace mv::spec
