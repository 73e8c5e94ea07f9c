#include "spec/model.h"

#include <algorithm>

namespace mv::spec {

Snapshot Model::snapshot_without_objects() const {
  Snapshot snap = snapshot();
  snap.objects.clear();
  return snap;
}

void Model::snapshot_without_objects_into(Snapshot& out) const { out = snapshot_without_objects(); }

std::optional<ObjectSnap> Model::live_object(ObjKey key) const {
  Snapshot snap = snapshot();
  auto it = std::find_if(snap.objects.begin(), snap.objects.end(),
                         [&](const ObjectSnap& o) { return o.key == key; });
  if (it == snap.objects.end()) return std::nullopt;
  return *it;
}

std::optional<SnapshotDelta> Model::take_changes() { return std::nullopt; }

}  // namespace mv::spec
