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

}  // namespace mv::arith
