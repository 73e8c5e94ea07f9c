#include "spec/snapshot.h"

#include <array>
#include <stdexcept>

namespace mv::spec {

const ObjcgSnap& Snapshot::objcg(ObjcgId id) const {
  for (const auto& o : objcgs)
    if (o.id == id) return o;
  throw std::out_of_range("no objcg with that id");
}

bool Snapshot::operator==(const Snapshot& other) const {
  return config.profile == other.config.profile && config.ncpus == other.config.ncpus &&
         config.page_size_bytes == other.config.page_size_bytes && cgroups == other.cgroups &&
         objcgs == other.objcgs && stocks == other.stocks && objects == other.objects &&
         tasks == other.tasks && caches == other.caches && slab_pages == other.slab_pages &&
         events == other.events && pending_work == other.pending_work;
}

namespace {

// Moves `list` out, emptied, with its storage.
template <class T>
std::vector<T> emptied(std::vector<T>& list) {
  std::vector<T> out = std::move(list);
  out.clear();
  return out;
}

}  // namespace

void reset_keeping_storage(StockSnap& stock) {
  auto slots = emptied(stock.page_stock);
  stock = StockSnap{};
  stock.page_stock = std::move(slots);
}

// Every field is reset by the assignment of Snapshot{} (a field added later
// too); only the lists' storage is carried over.
void reset_keeping_storage(Snapshot& snap) {
  std::vector<StockSnap> stocks = std::move(snap.stocks);
  for (auto& stock : stocks) reset_keeping_storage(stock);
  auto cgroups = emptied(snap.cgroups);
  auto objcgs = emptied(snap.objcgs);
  auto objects = emptied(snap.objects);
  auto tasks = emptied(snap.tasks);
  auto caches = emptied(snap.caches);
  auto slab_pages = emptied(snap.slab_pages);
  auto events = emptied(snap.events);
  snap = Snapshot{};
  snap.cgroups = std::move(cgroups);
  snap.objcgs = std::move(objcgs);
  snap.stocks = std::move(stocks);
  snap.objects = std::move(objects);
  snap.tasks = std::move(tasks);
  snap.caches = std::move(caches);
  snap.slab_pages = std::move(slab_pages);
  snap.events = std::move(events);
}

const KmemCacheSnap* Snapshot::cache(CacheId id) const {
  if (id >= 1 && id <= caches.size() && caches[id - 1].id == id) return &caches[id - 1];
  for (const auto& c : caches)
    if (c.id == id) return &c;
  return nullptr;
}

std::string_view event_kind_name(EventKind kind) {
  static constexpr std::array<std::string_view, 8> names = {
      "page_counter_underflow", "css_ref_underflow",    "objcg_ref_underflow",
      "memcg_use_after_free",   "objcg_use_after_free", "null_dereference",
      "release_unaligned",      "root_charge_skipped"};
  return names[static_cast<int>(kind)];
}

std::string_view cgroup_state_name(CgroupState state) {
  static constexpr std::array<std::string_view, 3> names = {"online", "dying", "freed"};
  return names[static_cast<int>(state)];
}

std::string_view cache_state_name(CacheState state) {
  static constexpr std::array<std::string_view, 3> names = {"active", "deactivated", "destroyed"};
  return names[static_cast<int>(state)];
}

std::string_view objcg_state_name(ObjcgState state) {
  static constexpr std::array<std::string_view, 3> names = {"active", "reparented", "released"};
  return names[static_cast<int>(state)];
}

}  // namespace mv::spec
