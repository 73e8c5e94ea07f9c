#include "spec/object_totals.h"

#include "spec/holders.h"

namespace mv::spec {

namespace {

bool is_byte_charged(AllocKind kind) { return kind == AllocKind::slab || kind == AllocKind::percpu; }

// A group left with no object is dropped, so that equal sets of live objects
// give equal totals whatever came and went before.
template <class Map, class Key>
void erase_if_empty(Map& map, Key key) {
  auto it = map.find(key);
  if (it != map.end() && it->second.count == 0 && it->second == typename Map::mapped_type{})
    map.erase(it);
}

}  // namespace

ObjectTotals ObjectTotals::of(const std::vector<ObjectSnap>& objects, PageSize page) {
  ObjectTotals totals(page);
  for (const auto& object : objects) totals.add(object);
  return totals;
}

void ObjectTotals::add(const ObjectSnap& object) { apply(object, +1); }
void ObjectTotals::remove(const ObjectSnap& object) { apply(object, -1); }

void ObjectTotals::apply(const ObjectSnap& object, std::int64_t sign) {
  count_ += sign;
  const auto bytes = static_cast<std::int64_t>(object.charged_bytes);
  const std::int64_t refs = object_refs(object);
  if (object.objcg) {
    auto& t = by_objcg_[*object.objcg];
    (is_byte_charged(object.kind) ? t.byte_charged_bytes : t.kmem_bytes) += sign * bytes;
    t.refs += sign * refs;
    t.count += sign;
    erase_if_empty(by_objcg_, *object.objcg);
  }
  if (object.memcg) {
    auto& t = by_memcg_[*object.memcg];
    if (!object.objcg)
      t.direct_pages += sign * static_cast<std::int64_t>(object.charged_bytes >> page_.shift);
    t.refs += sign * refs;
    t.count += sign;
    erase_if_empty(by_memcg_, *object.memcg);
  }
}

const ObjcgObjectTotals* ObjectTotals::objcg(ObjcgId id) const {
  auto it = by_objcg_.find(id);
  return it == by_objcg_.end() ? nullptr : &it->second;
}

const MemcgObjectTotals* ObjectTotals::memcg(MemcgId id) const {
  auto it = by_memcg_.find(id);
  return it == by_memcg_.end() ? nullptr : &it->second;
}

}  // namespace mv::spec
