// struct page_counter and mm/page_counter.c (v6.6): a hierarchical counter of
// pages with an atomic usage and a speculative, rolled-back try-charge.
#pragma once

#include <climits>
#include <cstdint>

#include "impl/events.h"
#include "impl/sync.h"
#include "spec/mutant.h"

namespace mv::impl {

struct PageCounter {
  // Written by every charging CPU: its own cache line, with the racy
  // watermark and failcnt that are written on the same paths.
  alignas(64) sync::Shared<long> usage{0};
  sync::Shared<unsigned long> watermark{0};
  sync::Shared<unsigned long> failcnt{0};
  // Read-mostly.
  alignas(64) sync::Shared<unsigned long> max{0};
  PageCounter* parent = nullptr;
  std::uint32_t memcg_id = 0;  // the subject of an underflow event
  void* owner = nullptr;       // the memcg it is embedded in (mem_cgroup_from_counter)
};

void page_counter_init(PageCounter& counter, PageCounter* parent, void* owner,
                       std::uint32_t memcg_id, unsigned long max_pages);
// Returns false and sets *fail to the level that refused; lower levels are
// rolled back, the failing one was never left charged.
// `mutant` (spec/mutant.h): rollback_misses_level and double_uncharge_unclamped
// change these functions; none is the kernel's code.
bool page_counter_try_charge(PageCounter* counter, unsigned long nr_pages, PageCounter** fail,
                             EventLog& events, spec::Mutant mutant = spec::Mutant::none);
void page_counter_charge(PageCounter* counter, unsigned long nr_pages);
void page_counter_uncharge(PageCounter* counter, unsigned long nr_pages, EventLog& events,
                           spec::Mutant mutant = spec::Mutant::none);
void page_counter_cancel(PageCounter* counter, unsigned long nr_pages, EventLog& events,
                         spec::Mutant mutant = spec::Mutant::none);
// 0 or -EBUSY (returned as false).
bool page_counter_set_max(PageCounter* counter, unsigned long nr_pages);
// page_counter_read: atomic_long_read(&usage) as unsigned long.
inline unsigned long page_counter_read(const PageCounter* counter) {
  return static_cast<unsigned long>(counter->usage.load_relaxed());
}

}  // namespace mv::impl
