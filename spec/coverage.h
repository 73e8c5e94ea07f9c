// Coverage marks (TigerBeetle's src/testing/marks.zig idea): model code hits a
// named mark when it takes a rare path; a campaign asserts that every mark was
// hit, so a random run that never reaches the interesting states cannot pass
// unnoticed. Counting is one relaxed atomic add into a static array.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "spec/profile.h"

namespace mv::spec {

enum class Mark : std::uint8_t {
  obj_stock_hit,               // consume_obj_stock served the charge from the byte stock
  obj_stock_miss,              // consume_obj_stock could not (other objcg, or too few bytes)
  obj_stock_replace,           // refill_obj_stock / mod_objcg_state drained another cached objcg
  obj_stock_uncharge_pages,    // refill_obj_stock: stock over PAGE_SIZE, whole pages uncharged
  page_stock_overflow_drain,   // __refill_stock: nr_pages over the batch, drain_stock
  release_with_pages,          // obj_cgroup_release with nr_charged_bytes a non-zero page multiple
  reparent_with_cached_objcg,  // memcg_reparent_objcgs while a CPU's byte stock caches a moved objcg
  charge_rollback,             // page_counter_try_charge failed above the first level: rollback
  forced_charge,               // try_charge_memcg's force: path (__GFP_NOFAIL past the limit)
  // Profiles with memcg kmem_caches (v5.2, v5.3, davydov-2014):
  memcg_cache_created,         // the deferred memcg_create_kmem_cache made a memcg cache
  slab_page_charged,           // a new slab page was charged
  slab_page_uncharged,         // a new slab page went uncharged (a root cache's)
  memcg_cache_reparented,      // v5.3 memcg_deactivate_kmem_caches moved a cache to the parent
  memcg_cache_shut_down,       // v5.3 kmemcg_cache_shutdown_fn: a reparented cache went empty
  slab_page_recharged,         // davydov-2014: a page charged to another memcg was recharged
  // Profiles with a multi-slot page stock (v6.16, NR_MEMCG_STOCK):
  page_stock_slot_evicted,     // refill_stock: every slot caches another memcg, one is evicted
};

inline constexpr std::size_t kNrMarks = 16;

using MarkCounts = std::array<std::uint64_t, kNrMarks>;

namespace detail {
extern std::array<std::atomic<std::uint64_t>, kNrMarks> mark_counters;
}

// Counts one hit of `mark` (any thread).
inline void mark_hit(Mark mark) {
  detail::mark_counters[static_cast<std::size_t>(mark)].fetch_add(1, std::memory_order_relaxed);
}

// The counts since the process started. A campaign takes the difference of two
// readings, so that it needs no reset and tolerates other users.
MarkCounts mark_counts();
MarkCounts mark_counts_since(const MarkCounts& start);

// Whether a profile has the path a mark stands for (a campaign on that
// profile must hit exactly those).
bool mark_applies(Mark mark, const ProfileTraits& traits);
std::string_view mark_name(Mark mark);         // "obj_stock_hit"
std::string_view mark_description(Mark mark);  // the kernel path, in words
inline Mark mark_at(std::size_t index) { return static_cast<Mark>(index); }

}  // namespace mv::spec
