// Deliberately wrong versions of arith/*.h functions: the arithmetic mutants
// of spec/mutant.h, written once for every domain like the code they replace
// (same signatures). impl/ and reference/ call them only when that mutant is
// selected; nothing else may.
#pragma once

#include "arith/domain.h"
#include "arith/kmem_size.h"
#include "arith/obj_stock.h"
#include "arith/page_counter.h"
#include "arith/page_stock.h"

namespace mv::arith::slips {

// refill_obj_stock_at_page_size: `stock->nr_bytes >= PAGE_SIZE` for `>`.
template <class D>
ObjRefill<D> obj_stock_refill_at_page_size(typename D::u32 stock_nr_bytes,
                                           typename D::u32 nr_bytes,
                                           typename D::boolean allow_uncharge, PageGeometry page) {
  auto total = stock_nr_bytes + nr_bytes;
  auto page_bytes = D::lit32(static_cast<std::uint32_t>(page.size_bytes));
  auto overflow = allow_uncharge && (total >= page_bytes);
  return {D::select(overflow, total & D::lit32(static_cast<std::uint32_t>(page.mask())), total),
          D::select(overflow, total >> page.shift, D::lit32(0))};
}

// refill_stock_at_batch: `stock->nr_pages >= MEMCG_CHARGE_BATCH` for `>`.
template <class D>
PageRefill<D> page_stock_refill_at_batch(typename D::u32 stock_nr_pages,
                                         typename D::u32 nr_pages, std::uint32_t batch_pages) {
  auto total = stock_nr_pages + nr_pages;
  return {total, total >= D::lit32(batch_pages)};
}

// drain_split_wrong_mask: `nr_bytes & PAGE_SIZE` for `nr_bytes & (PAGE_SIZE - 1)`.
template <class D>
ObjDrain<D> obj_stock_drain_split_wrong_mask(typename D::u32 stock_nr_bytes, PageGeometry page) {
  return {stock_nr_bytes >> page.shift,
          stock_nr_bytes & D::lit32(static_cast<std::uint32_t>(page.size_bytes))};
}

// charge_split_no_round_up: obj_cgroup_charge without `if (nr_bytes) nr_pages += 1`.
template <class D>
ObjChargeSplit<D> obj_charge_split_no_round_up(typename D::u64 size_bytes, PageGeometry page) {
  return {D::trunc32(size_bytes >> page.shift), D::trunc32(size_bytes & D::lit64(page.mask()))};
}

// percpu_without_metadata: pcpu_obj_full_size before 8c57c07741bf.
template <class D>
typename D::u64 pcpu_obj_full_size_without_pointers(typename D::u64 aligned_size_bytes,
                                                    std::uint32_t ncpus) {
  return pcpu_obj_full_size_v5_9<D>(aligned_size_bytes, ncpus);
}

// double_uncharge_unclamped: page_counter_cancel before 9317d0fffeb4: the
// WARN_ON_ONCE(new < 0) stays, the reset to 0 does not.
template <class D>
LevelCancel<D> level_cancel_unclamped(typename D::u64 usage, typename D::u64 nr_pages) {
  auto subtracted = usage - nr_pages;
  return {subtracted, D::is_negative(subtracted)};
}

}  // namespace mv::arith::slips
