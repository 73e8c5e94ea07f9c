// Page-stock and batch arithmetic, written once for every domain.
// Kernel: mm/memcontrol.c, v6.6 (consume_stock, __refill_stock, try_charge_memcg).
#pragma once

#include "arith/domain.h"

namespace mv::arith {

// consume_stock (v6.6): `if (nr_pages > MEMCG_CHARGE_BATCH) return false;` then a
// hit needs the cached memcg to match and `stock->nr_pages >= nr_pages`.
template <class D>
typename D::boolean page_stock_covers(typename D::u32 stock_nr_pages, typename D::u32 nr_pages,
                                      std::uint32_t batch_pages) {
  return !(nr_pages > D::lit32(batch_pages)) && stock_nr_pages >= nr_pages;
}

template <class D>
struct PageRefill {
  typename D::u32 stock_nr_pages;  // before a possible drain
  typename D::boolean drain;       // `stock->nr_pages > MEMCG_CHARGE_BATCH`
};

// __refill_stock (v6.6): `stock->nr_pages += nr_pages; if (stock->nr_pages >
// MEMCG_CHARGE_BATCH) drain_stock(stock);` (strictly greater: a full batch stays).
template <class D>
PageRefill<D> page_stock_refill(typename D::u32 stock_nr_pages, typename D::u32 nr_pages,
                                std::uint32_t batch_pages) {
  auto total = stock_nr_pages + nr_pages;
  return {total, total > D::lit32(batch_pages)};
}

// try_charge_memcg (v6.6): `unsigned int batch = max(MEMCG_CHARGE_BATCH, nr_pages);`
template <class D>
typename D::u32 charge_batch(typename D::u32 nr_pages, std::uint32_t batch_pages) {
  return D::max(D::lit32(batch_pages), nr_pages);
}

// try_charge_memcg (v6.6) done_restock: `if (batch > nr_pages)
// refill_stock(memcg, batch - nr_pages);` (zero means no refill).
template <class D>
typename D::u32 restock_pages(typename D::u32 batch, typename D::u32 nr_pages) {
  return D::select(batch > nr_pages, batch - nr_pages, D::lit32(0));
}

// consume_stock (v6.6), on a hit (page_stock_covers): `stock->nr_pages -= nr_pages;`
template <class D>
typename D::u32 page_stock_consume(typename D::u32 stock_nr_pages, typename D::u32 nr_pages) {
  return stock_nr_pages - nr_pages;
}

// refill_stock (v6.16) evicts `i = get_random_u32_below(NR_MEMCG_STOCK)`
// when no slot is free. A verification tool must replay deterministically, so
// the models draw the n-th eviction of a CPU (counted from boot, n = 0, 1,
// ...) from a fixed sequence instead: the splitmix64 finalizer of
// (cpu << 32 | n), reduced modulo the slot count. Like the kernel's draw, it
// is uniform enough and independent of which memcgs the slots hold; unlike
// it, a trace replays to the same slot every time. Not kernel arithmetic:
// the same rule for every model, written once here.
constexpr std::uint32_t page_stock_evicted_slot(std::uint32_t cpu, std::uint32_t n,
                                                std::uint32_t nr_slots) {
  std::uint64_t z = (std::uint64_t{cpu} << 32 | n) + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<std::uint32_t>(z % nr_slots);
}

}  // namespace mv::arith
