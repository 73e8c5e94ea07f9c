#include "spec/coverage.h"

namespace mv::spec {

namespace detail {
std::array<std::atomic<std::uint64_t>, kNrMarks> mark_counters{};
}

namespace {

struct MarkInfo {
  std::string_view name;
  std::string_view description;
};

constexpr std::array<MarkInfo, kNrMarks> kMarks = {{
    {"obj_stock_hit", "consume_obj_stock: the byte stock covers the charge"},
    {"obj_stock_miss", "consume_obj_stock: another objcg cached, or too few bytes"},
    {"obj_stock_replace", "refill_obj_stock/mod_objcg_state: another cached objcg is drained"},
    {"obj_stock_uncharge_pages",
     "refill_obj_stock: the byte stock passes PAGE_SIZE and whole pages are uncharged"},
    {"page_stock_overflow_drain", "__refill_stock: nr_pages passes the batch, drain_stock"},
    {"release_with_pages",
     "obj_cgroup_release: nr_charged_bytes is a non-zero multiple of PAGE_SIZE"},
    {"reparent_with_cached_objcg",
     "memcg_reparent_objcgs: a CPU's byte stock still caches a reparented objcg"},
    {"charge_rollback",
     "page_counter_try_charge: a level above the first fails, the lower levels are cancelled"},
    {"forced_charge", "try_charge_memcg: __GFP_NOFAIL charge forced past the limit"},
    {"memcg_cache_created", "memcg_create_kmem_cache: a memcg's child cache of a root cache"},
    {"slab_page_charged", "allocate_slab: a new slab page charged to a memcg"},
    {"slab_page_uncharged", "allocate_slab: a new slab page left uncharged (a root cache's)"},
    {"memcg_cache_reparented", "memcg_deactivate_kmem_caches: a cache moved to the parent"},
    {"memcg_cache_shut_down", "kmemcg_cache_shutdown_fn: a reparented cache's refcount reached 0"},
    {"slab_page_recharged",
     "__memcg_kmem_recharge_slab: a slab page charged to another memcg is recharged"},
    {"page_stock_slot_evicted",
     "refill_stock (v6.16): every slot of the page stock caches another memcg; one is drained "
     "and caches this one"},
}};

}  // namespace

MarkCounts mark_counts() {
  MarkCounts counts{};
  for (std::size_t i = 0; i < kNrMarks; ++i)
    counts[i] = detail::mark_counters[i].load(std::memory_order_relaxed);
  return counts;
}

MarkCounts mark_counts_since(const MarkCounts& start) {
  MarkCounts counts = mark_counts();
  for (std::size_t i = 0; i < kNrMarks; ++i) counts[i] -= start[i];
  return counts;
}

bool mark_applies(Mark mark, const ProfileTraits& traits) {
  switch (mark) {
    case Mark::obj_stock_hit:
    case Mark::obj_stock_miss:
    case Mark::obj_stock_replace:
    case Mark::obj_stock_uncharge_pages:
    case Mark::release_with_pages:
    case Mark::reparent_with_cached_objcg: return traits.has_objcg();
    // Only an uncharge can push a stock past a batch: try_charge's restock
    // never does (it refills batch - nr_pages after a miss). Before v5.9 no
    // uncharge refilled a stock, until 3de7d4f25a74 (v5.10.11) kmem pages did.
    case Mark::page_stock_overflow_drain:
      return traits.has_objcg() || traits.kmem_uncharge_refills_stock;
    case Mark::charge_rollback: return true;
    // Davydov's memcg_kmem_newpage_charge (3.18 base) never charges a
    // __GFP_NOFAIL allocation: nothing is ever forced past the limit.
    case Mark::forced_charge: return traits.slab != SlabCharging::recharged_cache_pages;
    case Mark::memcg_cache_created:
    case Mark::slab_page_charged:
    case Mark::slab_page_uncharged: return traits.has_memcg_caches();
    case Mark::memcg_cache_reparented:
    case Mark::memcg_cache_shut_down: return traits.slab == SlabCharging::reparented_cache_pages;
    case Mark::slab_page_recharged: return traits.slab == SlabCharging::recharged_cache_pages;
    case Mark::page_stock_slot_evicted: return traits.page_stock_slots > 1;
  }
  return false;
}

std::string_view mark_name(Mark mark) { return kMarks[static_cast<std::size_t>(mark)].name; }

std::string_view mark_description(Mark mark) {
  return kMarks[static_cast<std::size_t>(mark)].description;
}

}  // namespace mv::spec
