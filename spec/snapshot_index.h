// Lookups over one Snapshot for the invariant checkers: memcgs and objcgs by
// id, the cgroup tree, and page-stock totals. Tolerates corrupt snapshots (ids
// that name nothing, parent cycles): a checker must report, never crash.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "spec/object_totals.h"
#include "spec/snapshot.h"

namespace mv::spec {

class SnapshotIndex {
 public:
  explicit SnapshotIndex(const Snapshot& snap);
  // A summary: `snap` without its objects (Monitor::check_summary), and the
  // live objects' totals, which must outlive the index.
  SnapshotIndex(const Snapshot& snap, const ObjectTotals& object_totals);

  const Snapshot& snap() const { return *snap_; }
  const CgroupSnap* memcg(MemcgId id) const;  // nullptr: no such memcg
  const ObjcgSnap* objcg(ObjcgId id) const;   // nullptr: no such objcg

  // id, its parent, ..., the root: nearest first. Stops at a parent that does
  // not exist or that was already visited (a corrupt tree).
  std::vector<MemcgId> ancestors_or_self(MemcgId id) const;
  // Children of id in every state, freed ones included.
  std::vector<MemcgId> children(MemcgId id) const;

  // Σ over CPUs and slots of the page-stock pages cached for exactly `id`.
  std::int64_t stocked_pages(MemcgId id) const;
  // Σ of stocked_pages over id's subtree (every descendant, any state).
  std::int64_t subtree_stocked_pages(MemcgId id) const;

  // Adds each memcg's own amount to itself and to all its ancestors: the
  // result maps every memcg to the total over its subtree.
  std::map<MemcgId, std::int64_t> subtree_sums(const std::map<MemcgId, std::int64_t>& own) const;

  // The online memcg at `path` (at most one: mkdir refuses a second).
  const CgroupSnap* online_memcg_at(PathKey path) const;

  // Σ over the live objects per objcg and per memcg: what the checkers use.
  const ObjectTotals& object_totals() const;
  // Whether snap().objects lists the live objects (false for a summary): only
  // then can a message name them one by one.
  bool lists_objects() const { return external_totals_ == nullptr; }

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
  const ObjectTotals* external_totals_ = nullptr;
  mutable std::optional<ObjectTotals> own_totals_;  // from snap().objects, on first use
};

}  // namespace mv::spec
