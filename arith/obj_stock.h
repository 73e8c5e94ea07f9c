// Byte-stock arithmetic of obj_cgroup charging, written once for every domain.
// Kernel: mm/memcontrol.c, v6.6 (obj_cgroup_charge, refill_obj_stock,
// drain_obj_stock, consume_obj_stock, obj_cgroup_release).
#pragma once

#include "arith/domain.h"

namespace mv::arith {

template <class D>
struct ObjChargeSplit {
  typename D::u32 nr_pages;  // whole pages to charge to the page_counter
  typename D::u32 nr_bytes;  // sub-page remainder of the size
};

// obj_cgroup_charge (v6.6): `unsigned int nr_pages = size >> PAGE_SHIFT;
// unsigned int nr_bytes = size & (PAGE_SIZE - 1); if (nr_bytes) nr_pages += 1;`
// size is size_t; both results are unsigned int (the truncation is the kernel's).
template <class D>
ObjChargeSplit<D> obj_charge_split(typename D::u64 size_bytes, PageGeometry page) {
  auto nr_pages = D::trunc32(size_bytes >> page.shift);
  auto nr_bytes = D::trunc32(size_bytes & D::lit64(page.mask()));
  nr_pages = D::select(nr_bytes != D::lit32(0), nr_pages + D::lit32(1), nr_pages);
  return {nr_pages, nr_bytes};
}

// obj_cgroup_charge (v6.6): after charging whole pages, the unused tail of the
// last page goes to the byte stock: refill_obj_stock(objcg, PAGE_SIZE - nr_bytes, false).
// Only called when nr_bytes != 0.
template <class D>
typename D::u32 charge_tail_bytes(typename D::u32 nr_bytes, PageGeometry page) {
  return D::lit32(static_cast<std::uint32_t>(page.size_bytes)) - nr_bytes;
}

// consume_obj_stock(objcg, unsigned int nr_bytes) is called with a size_t size:
// the parameter conversion keeps only the low 32 bits.
template <class D>
typename D::u32 consume_request_bytes(typename D::u64 size_bytes) {
  return D::trunc32(size_bytes);
}

// consume_obj_stock (v6.6): a hit needs `stock->nr_bytes >= nr_bytes`.
template <class D>
typename D::boolean obj_stock_covers(typename D::u32 stock_nr_bytes, typename D::u32 nr_bytes) {
  return stock_nr_bytes >= nr_bytes;
}

template <class D>
struct ObjRefill {
  typename D::u32 stock_nr_bytes;  // stock->nr_bytes afterwards
  typename D::u32 nr_pages;        // whole pages to obj_cgroup_uncharge_pages()
};

// refill_obj_stock (v6.6), after the cached objcg matches: `stock->nr_bytes +=
// nr_bytes; if (allow_uncharge && stock->nr_bytes > PAGE_SIZE) { nr_pages =
// stock->nr_bytes >> PAGE_SHIFT; stock->nr_bytes &= PAGE_SIZE - 1; }`.
// The threshold is strictly greater: exactly PAGE_SIZE bytes stay in the stock.
template <class D>
ObjRefill<D> obj_stock_refill(typename D::u32 stock_nr_bytes, typename D::u32 nr_bytes,
                              typename D::boolean allow_uncharge, PageGeometry page) {
  auto total = stock_nr_bytes + nr_bytes;
  auto page_bytes = D::lit32(static_cast<std::uint32_t>(page.size_bytes));
  auto overflow = allow_uncharge && (total > page_bytes);
  return {D::select(overflow, total & D::lit32(static_cast<std::uint32_t>(page.mask())), total),
          D::select(overflow, total >> page.shift, D::lit32(0))};
}

template <class D>
struct ObjRefillWholeStock {
  typename D::u32 stock_nr_bytes;  // stock->nr_bytes before a possible drain
  typename D::boolean drain;       // `stock->nr_bytes > PAGE_SIZE`: drain_obj_stock(stock)
};

// refill_obj_stock (v5.9-v5.13; v5.10 mm/memcontrol.c), after the cached
// objcg matches: `stock->nr_bytes += nr_bytes; if (stock->nr_bytes >
// PAGE_SIZE) drain_obj_stock(stock);` The whole stock goes (its objcg too),
// whatever the caller; strictly greater, as in v6.6.
template <class D>
ObjRefillWholeStock<D> obj_stock_refill_whole_stock(typename D::u32 stock_nr_bytes,
                                                    typename D::u32 nr_bytes, PageGeometry page) {
  auto total = stock_nr_bytes + nr_bytes;
  return {total, total > D::lit32(static_cast<std::uint32_t>(page.size_bytes))};
}

template <class D>
struct ObjDrain {
  typename D::u32 nr_pages;  // uncharged through __refill_stock of the objcg's memcg
  typename D::u32 nr_bytes;  // added to objcg->nr_charged_bytes
};

// drain_obj_stock (v6.6): `nr_pages = stock->nr_bytes >> PAGE_SHIFT;
// nr_bytes = stock->nr_bytes & (PAGE_SIZE - 1)`.
template <class D>
ObjDrain<D> obj_stock_drain_split(typename D::u32 stock_nr_bytes, PageGeometry page) {
  return {stock_nr_bytes >> page.shift,
          stock_nr_bytes & D::lit32(static_cast<std::uint32_t>(page.mask()))};
}

// atomic_add(nr_bytes, &objcg->nr_charged_bytes): atomic_t wraps like unsigned int.
template <class D>
typename D::u32 charged_bytes_add(typename D::u32 nr_charged_bytes, typename D::u32 nr_bytes) {
  return nr_charged_bytes + nr_bytes;
}

template <class D>
struct ObjRelease {
  typename D::u32 nr_pages;   // uncharged by obj_cgroup_release
  typename D::boolean aligned;  // false is the kernel's WARN_ON_ONCE
};

// obj_cgroup_release (v6.6): `nr_bytes = atomic_read(&objcg->nr_charged_bytes);
// WARN_ON_ONCE(nr_bytes & (PAGE_SIZE - 1)); nr_pages = nr_bytes >> PAGE_SHIFT;`
template <class D>
ObjRelease<D> obj_release_split(typename D::u32 nr_charged_bytes, PageGeometry page) {
  auto remainder = nr_charged_bytes & D::lit32(static_cast<std::uint32_t>(page.mask()));
  return {nr_charged_bytes >> page.shift, remainder == D::lit32(0)};
}

// consume_obj_stock (v6.6), on a hit (obj_stock_covers): `stock->nr_bytes -= nr_bytes;`
template <class D>
typename D::u32 obj_stock_consume(typename D::u32 stock_nr_bytes, typename D::u32 nr_bytes) {
  return stock_nr_bytes - nr_bytes;
}

}  // namespace mv::arith
