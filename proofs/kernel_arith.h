// The arithmetic a lemma is about, as a swappable policy.
//
// Every lemma is a template over an Arith policy. KernelArith forwards to the
// arith/*.h templates, the code that impl/ and reference/ run; it is the
// default and the only policy `memcg-verify prove` uses. Teeth tests derive a
// policy that hides one function with a broken version (a wrong mask, `>=` for
// `>`, a missing rollback level) and check that the lemma is then refuted.
// Call sites spell `Arith::template name<D>(...)`.
#pragma once

#include <cstdint>

#include "arith/domain.h"
#include "arith/kmem_size.h"
#include "arith/obj_stock.h"
#include "arith/page_counter.h"
#include "arith/page_stock.h"

namespace mv::proofs {

inline constexpr std::uint32_t kChargeBatchPages = 64;  // MEMCG_CHARGE_BATCH (v6.1+)

struct KernelArith {
  using PageGeometry = arith::PageGeometry;

  // arith/obj_stock.h
  template <class D>
  static arith::ObjChargeSplit<D> obj_charge_split(typename D::u64 size_bytes, PageGeometry page) {
    return arith::obj_charge_split<D>(size_bytes, page);
  }
  template <class D>
  static typename D::u32 charge_tail_bytes(typename D::u32 nr_bytes, PageGeometry page) {
    return arith::charge_tail_bytes<D>(nr_bytes, page);
  }
  template <class D>
  static typename D::u32 consume_request_bytes(typename D::u64 size_bytes) {
    return arith::consume_request_bytes<D>(size_bytes);
  }
  template <class D>
  static typename D::boolean obj_stock_covers(typename D::u32 stock_nr_bytes, typename D::u32 nr_bytes) {
    return arith::obj_stock_covers<D>(stock_nr_bytes, nr_bytes);
  }
  template <class D>
  static typename D::u32 obj_stock_consume(typename D::u32 stock_nr_bytes, typename D::u32 nr_bytes) {
    return arith::obj_stock_consume<D>(stock_nr_bytes, nr_bytes);
  }
  template <class D>
  static arith::ObjRefill<D> obj_stock_refill(typename D::u32 stock_nr_bytes, typename D::u32 nr_bytes,
                                              typename D::boolean allow_uncharge, PageGeometry page) {
    return arith::obj_stock_refill<D>(stock_nr_bytes, nr_bytes, allow_uncharge, page);
  }
  template <class D>
  static arith::ObjDrain<D> obj_stock_drain_split(typename D::u32 stock_nr_bytes, PageGeometry page) {
    return arith::obj_stock_drain_split<D>(stock_nr_bytes, page);
  }
  template <class D>
  static typename D::u32 charged_bytes_add(typename D::u32 nr_charged_bytes, typename D::u32 nr_bytes) {
    return arith::charged_bytes_add<D>(nr_charged_bytes, nr_bytes);
  }
  template <class D>
  static arith::ObjRelease<D> obj_release_split(typename D::u32 nr_charged_bytes, PageGeometry page) {
    return arith::obj_release_split<D>(nr_charged_bytes, page);
  }

  // arith/page_stock.h
  template <class D>
  static typename D::boolean page_stock_covers(typename D::u32 stock_nr_pages, typename D::u32 nr_pages,
                                               std::uint32_t batch_pages) {
    return arith::page_stock_covers<D>(stock_nr_pages, nr_pages, batch_pages);
  }
  template <class D>
  static typename D::u32 page_stock_consume(typename D::u32 stock_nr_pages, typename D::u32 nr_pages) {
    return arith::page_stock_consume<D>(stock_nr_pages, nr_pages);
  }
  template <class D>
  static arith::PageRefill<D> page_stock_refill(typename D::u32 stock_nr_pages, typename D::u32 nr_pages,
                                                std::uint32_t batch_pages) {
    return arith::page_stock_refill<D>(stock_nr_pages, nr_pages, batch_pages);
  }
  template <class D>
  static typename D::u32 charge_batch(typename D::u32 nr_pages, std::uint32_t batch_pages) {
    return arith::charge_batch<D>(nr_pages, batch_pages);
  }
  template <class D>
  static typename D::u32 restock_pages(typename D::u32 batch, typename D::u32 nr_pages) {
    return arith::restock_pages<D>(batch, nr_pages);
  }

  // arith/page_counter.h
  template <class D>
  static arith::LevelCharge<D> level_try_charge(typename D::u64 usage, typename D::u64 nr_pages,
                                                typename D::u64 max) {
    return arith::level_try_charge<D>(usage, nr_pages, max);
  }
  template <class D>
  static arith::LevelCancel<D> level_cancel(typename D::u64 usage, typename D::u64 nr_pages) {
    return arith::level_cancel<D>(usage, nr_pages);
  }
  template <class D>
  static typename D::u64 level_charge(typename D::u64 usage, typename D::u64 nr_pages) {
    return arith::level_charge<D>(usage, nr_pages);
  }

  // arith/kmem_size.h
  template <class D>
  static typename D::u64 slab_obj_full_size(typename D::u64 object_size_bytes) {
    return arith::slab_obj_full_size<D>(object_size_bytes);
  }
  template <class D>
  static typename D::u64 pcpu_aligned_size(typename D::u64 size_bytes) {
    return arith::pcpu_aligned_size<D>(size_bytes);
  }
  template <class D>
  static typename D::u64 pcpu_obj_full_size(typename D::u64 aligned_size_bytes, std::uint32_t ncpus) {
    return arith::pcpu_obj_full_size<D>(aligned_size_bytes, ncpus);
  }
  template <class D>
  static typename D::u32 kmem_page_nr_pages(std::uint32_t order) {
    return arith::kmem_page_nr_pages<D>(order);
  }
  template <class D>
  static typename D::u64 kmem_pages_bytes(typename D::u32 nr_pages, PageGeometry page) {
    return arith::kmem_pages_bytes<D>(nr_pages, page);
  }

  // Loop shapes the lemmas model around the arithmetic (mm/page_counter.c v6.6).
  // page_counter_try_charge's `failed:` loop, `for (c = counter; c != *fail;
  // c = c->parent) page_counter_cancel(c, nr_pages);`: level i (0 = the
  // charged counter) is rolled back iff it lies below the failing level.
  static bool rollback_cancels(unsigned level, unsigned failing_level) { return level < failing_level; }
  // page_counter_uncharge walks every level up to and including the root
  // (since c5c8b16b596e the objcg path charges the root too, so it must also
  // uncharge it).
  static bool uncharge_reaches_root() { return true; }
};

}  // namespace mv::proofs
