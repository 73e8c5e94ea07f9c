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

std::string_view mark_name(Mark mark) { return kMarks[static_cast<std::size_t>(mark)].name; }

std::string_view mark_description(Mark mark) {
  return kMarks[static_cast<std::size_t>(mark)].description;
}

}  // namespace mv::spec
