#include "impl/page_counter.h"

#include "arith/page_counter.h"
#include "arith/slips.h"

namespace mv::impl {

using arith::M;

void page_counter_init(PageCounter& counter, PageCounter* parent, void* owner,
                       std::uint32_t memcg_id, unsigned long max_pages) {
  counter.owner = owner;
  counter.usage.store_relaxed(0);
  counter.watermark.store_relaxed(0);
  counter.failcnt.store_relaxed(0);
  counter.max.store_relaxed(max_pages);
  counter.parent = parent;
  counter.memcg_id = memcg_id;
}

// `if (new > READ_ONCE(c->watermark)) WRITE_ONCE(c->watermark, new)`: racy by
// design (v6.6); a lost update only lowers a statistic.
static void update_watermark(PageCounter* c, std::uint64_t new_usage) {
  auto old = M::lit64(c->watermark.load_relaxed());
  auto after = arith::watermark_after<M>(old, M::lit64(new_usage));
  if (static_cast<bool>(after != old)) c->watermark.store_relaxed(after.v);
}

// page_counter_cancel (v6.6, 9317d0fffeb4): subtract, clamp a negative result
// to zero with a WARN.
void page_counter_cancel(PageCounter* c, unsigned long nr_pages, EventLog& events,
                         spec::Mutant mutant) {
  long old = c->usage.fetch_sub(static_cast<long>(nr_pages));
  auto cancel = mutant == spec::Mutant::double_uncharge_unclamped
                    ? arith::slips::level_cancel_unclamped<M>(
                          M::lit64(static_cast<std::uint64_t>(old)), M::lit64(nr_pages))
                    : arith::level_cancel<M>(M::lit64(static_cast<std::uint64_t>(old)),
                                             M::lit64(nr_pages));
  if (cancel.underflow) {
    auto before_clamp = (M::lit64(static_cast<std::uint64_t>(old)) - M::lit64(nr_pages)).v;
    events.record(spec::EventKind::page_counter_underflow, c->memcg_id,
                  static_cast<std::int64_t>(before_clamp));
    c->usage.store(static_cast<long>(cancel.usage.v));  // atomic_long_set(&usage, 0)
  }
}

// page_counter_try_charge (v6.6): speculative add per level; the level that
// goes over max subtracts itself back, bumps failcnt, and every lower level
// already charged is cancelled.
bool page_counter_try_charge(PageCounter* counter, unsigned long nr_pages, PageCounter** fail,
                             EventLog& events, spec::Mutant mutant) {
  for (PageCounter* c = counter; c; c = c->parent) {
    long old = c->usage.fetch_add(static_cast<long>(nr_pages));
    auto level = arith::level_try_charge<M>(M::lit64(static_cast<std::uint64_t>(old)),
                                            M::lit64(nr_pages), M::lit64(c->max.load()));
    if (level.over_max) {
      c->usage.fetch_sub(static_cast<long>(nr_pages));
      c->failcnt.store_relaxed(c->failcnt.load_relaxed() + 1);  // data_race(c->failcnt++)
      *fail = c;
      for (PageCounter* low = counter; low != c; low = low->parent) {
        // Mutant::rollback_misses_level: the level just below c keeps its charge.
        if (mutant == spec::Mutant::rollback_misses_level && low->parent == c) [[unlikely]]
          break;
        page_counter_cancel(low, nr_pages, events, mutant);
      }
      return false;
    }
    update_watermark(c, level.usage.v);
  }
  return true;
}

// page_counter_charge (v6.6): forced, no max check.
void page_counter_charge(PageCounter* counter, unsigned long nr_pages) {
  for (PageCounter* c = counter; c; c = c->parent) {
    long old = c->usage.fetch_add(static_cast<long>(nr_pages));
    update_watermark(
        c, arith::level_charge<M>(M::lit64(static_cast<std::uint64_t>(old)), M::lit64(nr_pages)).v);
  }
}

// page_counter_uncharge (v6.6): cancel at every level.
void page_counter_uncharge(PageCounter* counter, unsigned long nr_pages, EventLog& events,
                           spec::Mutant mutant) {
  for (PageCounter* c = counter; c; c = c->parent) page_counter_cancel(c, nr_pages, events, mutant);
}

// page_counter_set_max (v6.6): refuse while usage is above the new max; the
// xchg/re-read pair catches a racing charge that slipped past the old max.
bool page_counter_set_max(PageCounter* c, unsigned long nr_pages) {
  for (;;) {
    unsigned long usage = page_counter_read(c);
    if (static_cast<bool>(arith::max_below_usage<M>(M::lit64(usage), M::lit64(nr_pages))))
      return false;
    unsigned long old = c->max.xchg(nr_pages);
    if (page_counter_read(c) <= usage || nr_pages >= old) return true;
    c->max.store(old);
  }
}

}  // namespace mv::impl
