// page_counter arithmetic, written once for every domain.
// Kernel: mm/page_counter.c, v6.6 (page_counter_try_charge, page_counter_cancel).
// usage is atomic_long_t (read here as its unsigned bits), max is unsigned long.
#pragma once

#include "arith/domain.h"

namespace mv::arith {

template <class D>
struct LevelCharge {
  typename D::u64 usage;        // usage after the speculative add
  typename D::boolean over_max;  // `new > c->max`: this level refuses and rolls back
};

// page_counter_try_charge, one level: `new = atomic_long_add_return(nr_pages,
// &c->usage); if (new > c->max) { atomic_long_sub(nr_pages, &c->usage); ... }`.
// The comparison is long against unsigned long: unsigned.
template <class D>
LevelCharge<D> level_try_charge(typename D::u64 usage, typename D::u64 nr_pages,
                                typename D::u64 max) {
  auto added = usage + nr_pages;
  return {added, added > max};
}

template <class D>
struct LevelCancel {
  typename D::u64 usage;          // usage afterwards (clamped to 0 on underflow)
  typename D::boolean underflow;  // the kernel's WARN_ONCE("page_counter underflow")
};

// page_counter_cancel (v5.13+, so v6.6): `new = atomic_long_sub_return(nr_pages,
// &counter->usage); if (WARN_ONCE(new < 0, ...)) { new = 0; atomic_long_set(...); }`
template <class D>
LevelCancel<D> level_cancel(typename D::u64 usage, typename D::u64 nr_pages) {
  auto subtracted = usage - nr_pages;
  auto underflow = D::is_negative(subtracted);
  return {D::select(underflow, D::lit64(0), subtracted), underflow};
}

// PAGE_COUNTER_MAX on a 64-bit kernel: `LONG_MAX / PAGE_SIZE` ("max").
template <class D>
typename D::u64 page_counter_max(PageGeometry page) {
  return D::lit64(0x7fffffffffffffffULL) >> page.shift;
}

// page_counter_memparse (v6.6): a limit is at most PAGE_COUNTER_MAX pages.
template <class D>
typename D::u64 page_counter_clamp_max(typename D::u64 max_pages, PageGeometry page) {
  auto limit = page_counter_max<D>(page);
  return D::select(max_pages > limit, limit, max_pages);
}

// page_counter_charge (v6.6), one level: `new = atomic_long_add_return(nr_pages,
// &c->usage)`, never checked against max (also the success path of try_charge).
template <class D>
typename D::u64 level_charge(typename D::u64 usage, typename D::u64 nr_pages) {
  return usage + nr_pages;
}

// page_counter_charge / page_counter_try_charge (v6.6): `if (new >
// READ_ONCE(c->watermark)) WRITE_ONCE(c->watermark, new);` (unsigned compare).
template <class D>
typename D::u64 watermark_after(typename D::u64 watermark, typename D::u64 usage) {
  return D::select(usage > watermark, usage, watermark);
}

// page_counter_set_max (v6.6): `if (usage > nr_pages) return -EBUSY;` (long
// against unsigned long: unsigned).
template <class D>
typename D::boolean max_below_usage(typename D::u64 usage, typename D::u64 max_pages) {
  return usage > max_pages;
}

}  // namespace mv::arith
