// What every model of a profile offers: apply one operation, show its state.
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "spec/operation.h"
#include "spec/path_table.h"
#include "spec/preemption.h"
#include "spec/profile.h"
#include "spec/snapshot.h"
#include "spec/snapshot_delta.h"

namespace mv::spec {

class Model {
 public:
  virtual ~Model() = default;
  // Applies one operation whose names the driver has already resolved. Never
  // throws for anything the kernel could be asked to do; refusals are results.
  virtual Errno apply(const Op& op) = 0;
  // The canonical state. Between operations every model is at a point where
  // its snapshot is comparable (deferred work still pending is counted).
  virtual Snapshot snapshot() const = 0;
  virtual std::string_view name() const = 0;

  // For long runs (properties/, Monitor::check_summary): the snapshot without
  // its live objects, and one live object as snapshot() lists it (nullopt if
  // not live). A live object's entry changes only when an operation allocates
  // or frees it, so these two give snapshot() at a cost independent of the
  // number of live objects. The defaults derive both from snapshot(); a model
  // overrides them to make them cheap.
  virtual Snapshot snapshot_without_objects() const;
  // snapshot_without_objects() written over `out`, whatever it held. The
  // default assigns; a model that overrides it reuses the storage of out's
  // lists (spec::reset_keeping_storage): the summary check takes two of
  // these on every step (properties/conformance.cc).
  virtual void snapshot_without_objects_into(Snapshot& out) const;
  virtual std::optional<ObjectSnap> live_object(ObjKey key) const;

  // Runs every later operation under `scheduler` (null: sequential again), so
  // that it can stop at preemption points (spec/preemption.h). False when the
  // model cannot be preempted (the impl's build without MV_IMPL_SCHED_HOOKS).
  // The scheduler must outlive its use.
  virtual bool set_scheduler(Scheduler* scheduler) { return false; }

  // For long replays (trace/replay.cc): how snapshot_without_objects() changed
  // since the last call (or since the model was made), at the cost of what
  // the operations wrote: every memcg, objcg and stock they may have changed
  // (a superset: unchanged entries may be listed), the tasks, the events
  // appended. Never lists objects. nullopt (the default): the model cannot
  // tell, and the caller compares whole snapshots.
  virtual std::optional<SnapshotDelta> take_changes();
};

}  // namespace mv::spec
