// What the invariants need to know about the live objects, summed per objcg
// and per memcg: the checkers read these totals (through a StateView)
// instead of walking Snapshot::objects, so a caller that keeps them up to date
// from the objects each step creates and frees (Monitor::check_summary) gets
// every invariant checked at a cost independent of the number of live objects.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "spec/profile.h"
#include "spec/snapshot.h"

namespace mv::spec {

// Live objects charged through one objcg (ObjectSnap::objcg).
struct ObjcgObjectTotals {
  std::int64_t byte_charged_bytes = 0;  // Σ charged_bytes of slab and percpu objects
  std::int64_t kmem_bytes = 0;          // Σ charged_bytes of page and stack objects
  std::int64_t refs = 0;                // Σ object_refs (spec/holders.h)
  std::int64_t count = 0;
  bool operator==(const ObjcgObjectTotals&) const = default;
};

// Live objects holding one memcg directly (ObjectSnap::memcg: profiles before v5.13).
struct MemcgObjectTotals {
  std::int64_t direct_pages = 0;  // Σ charged pages of those with no objcg (INV-PAGE-CONSERVATION)
  std::int64_t refs = 0;          // Σ object_refs
  std::int64_t count = 0;
  bool operator==(const MemcgObjectTotals&) const = default;
};

class ObjectTotals {
 public:
  explicit ObjectTotals(PageSize page = PageSize::of(4096)) : page_(page) {}
  static ObjectTotals of(const std::vector<ObjectSnap>& objects, PageSize page);

  void add(const ObjectSnap& object);
  void remove(const ObjectSnap& object);  // an object add()ed before

  // nullptr when no live object is charged through / holds it.
  const ObjcgObjectTotals* objcg(ObjcgId id) const;
  const MemcgObjectTotals* memcg(MemcgId id) const;
  const std::map<ObjcgId, ObjcgObjectTotals>& by_objcg() const { return by_objcg_; }
  const std::map<MemcgId, MemcgObjectTotals>& by_memcg() const { return by_memcg_; }
  std::int64_t count() const { return count_; }

  bool operator==(const ObjectTotals& other) const {
    return by_objcg_ == other.by_objcg_ && by_memcg_ == other.by_memcg_ && count_ == other.count_;
  }

 private:
  void apply(const ObjectSnap& object, std::int64_t sign);
  PageSize page_;
  std::map<ObjcgId, ObjcgObjectTotals> by_objcg_;
  std::map<MemcgId, MemcgObjectTotals> by_memcg_;
  std::int64_t count_ = 0;
};

}  // namespace mv::spec
