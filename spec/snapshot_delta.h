// What one step changed in a model's canonical snapshot, entry by entry, and a
// store that keeps a snapshot by id so that applying a step costs the step's
// changes, not the state's size. Long replays (trace/replay.cc) check every
// step from these (Monitor's incremental check, spec/incremental_state.h)
// instead of building and comparing whole snapshots.
//
// A canonical snapshot lists memcg i at cgroups[i] and objcg i at objcgs[i - 1]
// (memcgs and objcgs are never removed: freed ones stay), stock i at stocks[i],
// and its live tasks and objects by key, each key once. A change that cannot
// be written as a delta (an entry removed from cgroups or objcgs, ids out of
// place, events rewritten) is a non-canonical snapshot: the caller checks it
// in full.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "spec/snapshot.h"

namespace mv::spec {

struct SnapshotDelta {
  std::vector<CgroupSnap> cgroups;  // changed or new memcgs, by id
  std::vector<ObjcgSnap> objcgs;    // changed or new objcgs, by id
  std::vector<StockSnap> stocks;    // changed stocks, by CPU
  std::vector<TaskSnap> tasks;      // new or changed live tasks, by key
  std::vector<TaskKey> tasks_gone;  // tasks no longer live
  std::vector<ObjectSnap> objects;  // new or changed live objects, by key
  std::vector<ObjKey> objects_gone; // objects no longer live
  std::vector<Event> events;        // appended to Snapshot::events
  std::uint32_t pending_work = 0;

  bool operator==(const SnapshotDelta&) const = default;
};

// A canonical snapshot kept by id and key.
struct SnapshotStore {
  Config config;
  std::vector<CgroupSnap> cgroups;
  std::vector<ObjcgSnap> objcgs;
  std::vector<StockSnap> stocks;
  std::map<TaskKey, TaskSnap> tasks;
  std::map<ObjKey, ObjectSnap> objects;
  std::vector<Event> events;
  std::uint32_t pending_work = 0;

  // nullopt when `snap` is not canonical.
  static std::optional<SnapshotStore> of(const Snapshot& snap);
  Snapshot snapshot() const;
  // Whether `delta` fits the store: no new memcg or objcg out of place, no
  // stock that does not exist, no task or object gone that was not there.
  bool fits(const SnapshotDelta& delta) const;
  // false (and the store unchanged) when the delta does not fit.
  bool apply(const SnapshotDelta& delta);
};

// Whether `snap` is canonical (see above).
bool canonical(const Snapshot& snap);

// The changes from `before` to `after`; nullopt when `after` is not canonical
// or is not `before` changed by a delta (fewer memcgs or objcgs, events not
// an extension of before's, another configuration or number of stocks).
// With `objects` ignore, after.objects is not read and the delta lists no
// object: the caller adds the objects it knows changed (a replay takes them
// from the op, spec::Model::live_object).
enum class Objects { compare, ignore };
std::optional<SnapshotDelta> snapshot_delta(const SnapshotStore& before, const Snapshot& after,
                                            Objects objects = Objects::compare);

}  // namespace mv::spec
