#include "reference/page_counter.h"

#include "arith/page_counter.h"
#include "reference/kernel_state.h"
#include "spec/coverage.h"

namespace mv::reference {

using arith::M;
using spec::MemcgId;

namespace {

PageCounter& counter_of(Kernel& k, MemcgId counter) { return k.memcg(counter).memory; }

// The value page_counter_cancel's WARN_ONCE prints: the usage it computed
// before the clamp, as a signed long.
std::int64_t usage_before_clamp(std::uint64_t usage_bits, std::uint64_t nr_pages) {
  return static_cast<std::int64_t>((M::lit64(usage_bits) - M::lit64(nr_pages)).v);
}

}  // namespace

// page_counter_try_charge (v6.6)
std::optional<MemcgId> page_counter_try_charge(Kernel& k, MemcgId counter,
                                               std::uint64_t nr_pages) {
  k.touch_memcg(counter);
  for (std::optional<MemcgId> c = counter; c; c = k.memcg(*c).parent) {
    auto& level = counter_of(k, *c);
    auto charge = arith::level_try_charge<M>(M::lit64(level.usage_bits), M::lit64(nr_pages),
                                             M::lit64(level.max_pages));
    if (static_cast<bool>(charge.over_max)) {
      // The speculative add is subtracted again at once: this level's usage
      // is unchanged, only its failcnt moves. Then the lower levels, already
      // charged, are cancelled.
      level.failcnt += 1;
      if (*c != counter) spec::mark_hit(spec::Mark::charge_rollback);
      for (MemcgId lower = counter; lower != *c; lower = *k.memcg(lower).parent) {
        page_counter_cancel(k, lower, nr_pages);
      }
      return c;
    }
    level.usage_bits = charge.usage.v;
    level.watermark_pages = arith::watermark_after<M>(M::lit64(level.watermark_pages), charge.usage).v;
  }
  return std::nullopt;
}

// page_counter_charge (v6.6)
void page_counter_charge(Kernel& k, MemcgId counter, std::uint64_t nr_pages) {
  k.touch_memcg(counter);
  for (std::optional<MemcgId> c = counter; c; c = k.memcg(*c).parent) {
    auto& level = counter_of(k, *c);
    auto usage = arith::level_charge<M>(M::lit64(level.usage_bits), M::lit64(nr_pages));
    level.usage_bits = usage.v;
    level.watermark_pages = arith::watermark_after<M>(M::lit64(level.watermark_pages), usage).v;
  }
}

// page_counter_cancel (v6.6)
void page_counter_cancel(Kernel& k, MemcgId counter, std::uint64_t nr_pages) {
  auto& level = counter_of(k, counter);
  auto cancel = arith::level_cancel<M>(M::lit64(level.usage_bits), M::lit64(nr_pages));
  if (static_cast<bool>(cancel.underflow))
    k.record(spec::EventKind::page_counter_underflow, counter,
             usage_before_clamp(level.usage_bits, nr_pages));
  level.usage_bits = cancel.usage.v;
}

// page_counter_uncharge (v6.6)
void page_counter_uncharge(Kernel& k, MemcgId counter, std::uint64_t nr_pages) {
  k.touch_memcg(counter);
  for (std::optional<MemcgId> c = counter; c; c = k.memcg(*c).parent)
    page_counter_cancel(k, *c, nr_pages);
}

// page_counter_set_max (v6.6). The xchg/re-read loop only matters against
// concurrent charges; sequentially one pass decides.
bool page_counter_set_max(Kernel& k, MemcgId counter, std::uint64_t nr_pages) {
  auto& level = counter_of(k, counter);
  if (static_cast<bool>(arith::max_below_usage<M>(M::lit64(level.usage_bits), M::lit64(nr_pages))))
    return false;
  level.max_pages = nr_pages;
  return true;
}

}  // namespace mv::reference
