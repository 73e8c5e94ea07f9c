#include "spec/snapshot_delta.h"

#include <algorithm>

namespace mv::spec {

namespace {

template <class T, class Key>
bool sorted_unique(const std::vector<T>& v, Key key) {
  for (std::size_t i = 1; i < v.size(); ++i)
    if (!(key(v[i - 1]) < key(v[i]))) return false;
  return true;
}

// Changed or new entries of a vector indexed by position; false if `after`
// is shorter than `before` (an entry disappeared).
template <class T>
bool changed_entries(const std::vector<T>& before, const std::vector<T>& after,
                     std::vector<T>& out) {
  if (after.size() < before.size()) return false;
  for (std::size_t i = 0; i < after.size(); ++i)
    if (i >= before.size() || !(before[i] == after[i])) out.push_back(after[i]);
  return true;
}

// Changed or new entries of a map given as a vector sorted by key, and the
// keys gone.
template <class T, class Key, class KeyOf>
void changed_by_key(const std::map<Key, T>& before, const std::vector<T>& after, KeyOf key_of,
                    std::vector<T>& changed, std::vector<Key>& gone) {
  auto it = before.begin();
  for (const T& entry : after) {
    const Key key = key_of(entry);
    for (; it != before.end() && it->first < key; ++it) gone.push_back(it->first);
    if (it != before.end() && it->first == key) {
      if (!(it->second == entry)) changed.push_back(entry);
      ++it;
    } else {
      changed.push_back(entry);
    }
  }
  for (; it != before.end(); ++it) gone.push_back(it->first);
}

}  // namespace

bool canonical(const Snapshot& snap) {
  for (std::size_t i = 0; i < snap.cgroups.size(); ++i)
    if (snap.cgroups[i].id != i) return false;
  for (std::size_t i = 0; i < snap.objcgs.size(); ++i)
    if (snap.objcgs[i].id != i + 1) return false;
  for (std::size_t i = 0; i < snap.stocks.size(); ++i)
    if (snap.stocks[i].cpu != i) return false;
  return sorted_unique(snap.tasks, [](const TaskSnap& t) { return t.key; }) &&
         sorted_unique(snap.objects, [](const ObjectSnap& o) { return o.key; });
}

std::optional<SnapshotStore> SnapshotStore::of(const Snapshot& snap) {
  if (!canonical(snap)) return std::nullopt;
  SnapshotStore store;
  store.config = snap.config;
  store.cgroups = snap.cgroups;
  store.objcgs = snap.objcgs;
  store.stocks = snap.stocks;
  for (const auto& t : snap.tasks) store.tasks.emplace_hint(store.tasks.end(), t.key, t);
  for (const auto& o : snap.objects) store.objects.emplace_hint(store.objects.end(), o.key, o);
  store.events = snap.events;
  store.pending_work = snap.pending_work;
  return store;
}

Snapshot SnapshotStore::snapshot() const {
  Snapshot snap;
  snap.config = config;
  snap.cgroups = cgroups;
  snap.objcgs = objcgs;
  snap.stocks = stocks;
  snap.tasks.reserve(tasks.size());
  for (const auto& [key, t] : tasks) snap.tasks.push_back(t);
  snap.objects.reserve(objects.size());
  for (const auto& [key, o] : objects) snap.objects.push_back(o);
  snap.events = events;
  snap.pending_work = pending_work;
  return snap;
}

bool SnapshotStore::fits(const SnapshotDelta& delta) const {
  std::size_t nr_cgroups = cgroups.size(), nr_objcgs = objcgs.size();
  for (const auto& cg : delta.cgroups) {
    if (cg.id > nr_cgroups) return false;
    if (cg.id == nr_cgroups) ++nr_cgroups;
  }
  for (const auto& o : delta.objcgs) {
    if (o.id == 0 || o.id > nr_objcgs + 1) return false;
    if (o.id == nr_objcgs + 1) ++nr_objcgs;
  }
  for (const auto& s : delta.stocks)
    if (s.cpu >= stocks.size()) return false;
  for (TaskKey key : delta.tasks_gone)
    if (!tasks.count(key)) return false;
  for (ObjKey key : delta.objects_gone)
    if (!objects.count(key)) return false;
  return true;
}

bool SnapshotStore::apply(const SnapshotDelta& delta) {
  if (!fits(delta)) return false;  // a delta that does not fit changes nothing
  for (const auto& cg : delta.cgroups) {
    if (cg.id == cgroups.size()) cgroups.push_back(cg);
    else cgroups[cg.id] = cg;
  }
  for (const auto& o : delta.objcgs) {
    if (o.id == objcgs.size() + 1) objcgs.push_back(o);
    else objcgs[o.id - 1] = o;
  }
  for (const auto& s : delta.stocks) stocks[s.cpu] = s;
  for (TaskKey key : delta.tasks_gone) tasks.erase(key);
  for (const auto& t : delta.tasks) tasks[t.key] = t;
  for (ObjKey key : delta.objects_gone) objects.erase(key);
  for (const auto& o : delta.objects) objects[o.key] = o;
  events.insert(events.end(), delta.events.begin(), delta.events.end());
  pending_work = delta.pending_work;
  return true;
}

std::optional<SnapshotDelta> snapshot_delta(const SnapshotStore& before, const Snapshot& after,
                                            Objects objects) {
  if (!canonical(after) || after.stocks.size() != before.stocks.size() ||
      after.events.size() < before.events.size() ||
      !std::equal(before.events.begin(), before.events.end(), after.events.begin()) ||
      !(after.config.profile == before.config.profile && after.config.ncpus == before.config.ncpus &&
        after.config.page_size_bytes == before.config.page_size_bytes))
    return std::nullopt;
  SnapshotDelta delta;
  if (!changed_entries(before.cgroups, after.cgroups, delta.cgroups) ||
      !changed_entries(before.objcgs, after.objcgs, delta.objcgs))
    return std::nullopt;
  changed_entries(before.stocks, after.stocks, delta.stocks);
  changed_by_key(before.tasks, after.tasks, [](const TaskSnap& t) { return t.key; }, delta.tasks,
                 delta.tasks_gone);
  if (objects == Objects::compare)
    changed_by_key(before.objects, after.objects, [](const ObjectSnap& o) { return o.key; },
                   delta.objects, delta.objects_gone);
  delta.events.assign(after.events.begin() + static_cast<std::ptrdiff_t>(before.events.size()),
                      after.events.end());
  delta.pending_work = after.pending_work;
  return delta;
}

}  // namespace mv::spec
