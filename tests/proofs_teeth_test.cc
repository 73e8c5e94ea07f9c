// Every lemma can fail: each is run with a deliberately broken arithmetic
// policy (one KernelArith function hidden by a wrong version: a wrong mask,
// `>=` for `>`, a missing +1, a missing rollback level, ...) and must come out
// REFUTED. Lemmas whose expected outcome is `refuted` (a documented limit of
// the kernel's types) get the converse teeth: the threshold they report is
// the exact analytic one, and removing the mechanism behind the
// counterexample makes them proved.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "proofs/kmem_size_lemmas.h"
#include "proofs/lemma.h"
#include "proofs/obj_stock_lemmas.h"
#include "proofs/objcg_lemmas.h"
#include "proofs/page_counter_lemmas.h"
#include "proofs/page_stock_lemmas.h"

namespace {

using namespace mv::proofs;
using mv::arith::PageGeometry;
namespace arith = mv::arith;

// The deterministic Z3 resource budget of `prove` and its wall backstop (only
// against a hang): a broken variant is decided within the budget of the
// correct lemma, whatever the load.
constexpr Budget kBudget{};

LemmaConfig lp64(std::uint64_t page_size = 4096) { return {64, PageGeometry::of(page_size), kBudget}; }
LemmaConfig ilp32(std::uint64_t page_size = 4096) { return {32, PageGeometry::of(page_size), kBudget}; }

#define EXPECT_OUTCOME(expected, result)                                                        \
  do {                                                                                          \
    LemmaResult r_ = (result);                                                                  \
    EXPECT_EQ(outcome_name(r_.outcome), outcome_name(expected)) << r_.detail;                   \
    std::cout << "  rlimit " << r_.rlimit << ", " << r_.seconds << " s\n";                      \
    if (r_.outcome == Outcome::refuted) std::cout << "  counterexample: " << r_.detail << "\n"; \
  } while (0)

// ---- broken policies ----

// obj_cgroup_charge without `if (nr_bytes) nr_pages += 1`.
struct MissingRoundUp : KernelArith {
  template <class D>
  static arith::ObjChargeSplit<D> obj_charge_split(typename D::u64 size, PageGeometry page) {
    return {D::trunc32(size >> page.shift), D::trunc32(size & D::lit64(page.mask()))};
  }
};

// consume_obj_stock taking an unsigned short: the truncation moves to 2^16.
struct ShortRequest : KernelArith {
  template <class D>
  static typename D::u32 consume_request_bytes(typename D::u64 size) {
    return D::trunc32(size) & D::lit32(0xffff);
  }
};

// consume_obj_stock off by one: `stock->nr_bytes + 1 >= nr_bytes`.
struct CoversOffByOne : KernelArith {
  template <class D>
  static typename D::boolean obj_stock_covers(typename D::u32 stock, typename D::u32 nr_bytes) {
    return stock + D::lit32(1) >= nr_bytes;
  }
};

// refill_obj_stock keeping `nr_bytes & PAGE_SIZE` (the wrong mask).
struct RefillWrongMask : KernelArith {
  template <class D>
  static arith::ObjRefill<D> obj_stock_refill(typename D::u32 stock, typename D::u32 nr_bytes,
                                              typename D::boolean allow, PageGeometry page) {
    auto total = stock + nr_bytes;
    auto page_bytes = D::lit32(static_cast<std::uint32_t>(page.size_bytes));
    auto overflow = allow && (total > page_bytes);
    return {D::select(overflow, total & page_bytes, total), D::select(overflow, total >> page.shift, D::lit32(0))};
  }
};

// refill_obj_stock with `>=` for `>`: a stock of exactly PAGE_SIZE is uncharged.
struct RefillAtPageSize : KernelArith {
  template <class D>
  static arith::ObjRefill<D> obj_stock_refill(typename D::u32 stock, typename D::u32 nr_bytes,
                                              typename D::boolean allow, PageGeometry page) {
    auto total = stock + nr_bytes;
    auto page_bytes = D::lit32(static_cast<std::uint32_t>(page.size_bytes));
    auto overflow = allow && (total >= page_bytes);
    auto mask = D::lit32(static_cast<std::uint32_t>(page.mask()));
    return {D::select(overflow, total & mask, total), D::select(overflow, total >> page.shift, D::lit32(0))};
  }
};

// refill_obj_stock ignoring allow_uncharge: never gives whole pages back.
struct RefillNeverTrims : KernelArith {
  template <class D>
  static arith::ObjRefill<D> obj_stock_refill(typename D::u32 stock, typename D::u32 nr_bytes,
                                              typename D::boolean, PageGeometry page) {
    return KernelArith::obj_stock_refill<D>(stock, nr_bytes, D::lit_bool(false), page);
  }
};

// obj_cgroup_charge refilling PAGE_SIZE - nr_bytes + 1.
struct TailPlusOne : KernelArith {
  template <class D>
  static typename D::u32 charge_tail_bytes(typename D::u32 nr_bytes, PageGeometry page) {
    return D::lit32(static_cast<std::uint32_t>(page.size_bytes)) - nr_bytes + D::lit32(1);
  }
};

// drain_obj_stock flushing its remainder with `& (PAGE_SIZE - 2)`.
struct DrainWrongMask : KernelArith {
  template <class D>
  static arith::ObjDrain<D> obj_stock_drain_split(typename D::u32 stock, PageGeometry page) {
    return {stock >> page.shift, stock & D::lit32(static_cast<std::uint32_t>(page.size_bytes - 2))};
  }
};

// drain_obj_stock forgetting `atomic_add(nr_bytes, &objcg->nr_charged_bytes)`.
struct RemainderDropped : KernelArith {
  template <class D>
  static typename D::u32 charged_bytes_add(typename D::u32 nr_charged_bytes, typename D::u32) {
    return nr_charged_bytes;
  }
};

// obj_cgroup_release shifting by PAGE_SHIFT + 1.
struct ReleaseHalfPages : KernelArith {
  template <class D>
  static arith::ObjRelease<D> obj_release_split(typename D::u32 nr_charged_bytes, PageGeometry page) {
    auto mask = D::lit32(static_cast<std::uint32_t>(page.mask()));
    return {nr_charged_bytes >> (page.shift + 1), (nr_charged_bytes & mask) == D::lit32(0)};
  }
};

// __refill_stock draining at `>=` MEMCG_CHARGE_BATCH.
struct RefillStockAtBatch : KernelArith {
  template <class D>
  static arith::PageRefill<D> page_stock_refill(typename D::u32 stock, typename D::u32 nr_pages, std::uint32_t batch) {
    auto total = stock + nr_pages;
    return {total, total >= D::lit32(batch)};
  }
};

// __refill_stock draining only above twice the batch.
struct RefillStockDoubleBatch : KernelArith {
  template <class D>
  static arith::PageRefill<D> page_stock_refill(typename D::u32 stock, typename D::u32 nr_pages, std::uint32_t batch) {
    auto total = stock + nr_pages;
    return {total, total > D::lit32(2 * batch)};
  }
};

// done_restock refilling one page too many.
struct RestockPlusOne : KernelArith {
  template <class D>
  static typename D::u32 restock_pages(typename D::u32 batch, typename D::u32 nr_pages) {
    return D::select(batch > nr_pages, batch - nr_pages + D::lit32(1), D::lit32(0));
  }
};

// page_counter_try_charge refusing at `new >= c->max`.
struct TryChargeAtMax : KernelArith {
  template <class D>
  static arith::LevelCharge<D> level_try_charge(typename D::u64 usage, typename D::u64 nr_pages,
                                                typename D::u64 max) {
    auto added = usage + nr_pages;
    return {added, added >= max};
  }
};

// page_counter_try_charge's rollback stopping one level short.
struct RollbackMissesLevel : KernelArith {
  static bool rollback_cancels(unsigned level, unsigned failing_level) { return level + 1 < failing_level; }
};

// page_counter_cancel without 9317d0fffeb4's clamp.
struct CancelNoClamp : KernelArith {
  template <class D>
  static arith::LevelCancel<D> level_cancel(typename D::u64 usage, typename D::u64 nr_pages) {
    auto subtracted = usage - nr_pages;
    return {subtracted, D::is_negative(subtracted)};
  }
};

// The objcg path charging the root but the uncharge walk stopping below it
// (the asymmetry c5c8b16b596e fixed).
struct UnchargeSkipsRoot : KernelArith {
  static bool uncharge_reaches_root() { return false; }
};

// pcpu_obj_full_size before 8c57c07741bf: no objcg pointer per 4 bytes.
struct PercpuNoPointers : KernelArith {
  template <class D>
  static typename D::u64 pcpu_obj_full_size(typename D::u64 aligned, std::uint32_t ncpus) {
    return aligned * D::lit64(ncpus);
  }
};

// A kmem page charging 2 << order pages.
struct KmemPageDouble : KernelArith {
  template <class D>
  static typename D::u32 kmem_page_nr_pages(std::uint32_t order) {
    return D::lit32(std::uint32_t{2} << order);
  }
};

// ---- obj_stock_lemmas ----

TEST(ProofsTeeth, ChargeSplitNeedsTheRoundUp) {
  EXPECT_OUTCOME(Outcome::refuted, obj_charge_split_exact<MissingRoundUp>(lp64()));
  EXPECT_OUTCOME(Outcome::refuted, obj_charge_split_exact<MissingRoundUp>(ilp32(65536)));
}

TEST(ProofsTeeth, SplitThresholdIsExactlyTheUnsignedIntLimit) {
  for (std::uint64_t page_size : kProofPageSizes) {
    LemmaResult r = obj_charge_split_any_size(lp64(page_size));
    ASSERT_EQ(r.outcome, Outcome::refuted) << r.detail;
    std::uint64_t threshold = 0xffffffffull * page_size + 1;  // nr_pages = 2^32 - 1, then + 1 wraps
    EXPECT_NE(r.detail.find("size=" + std::to_string(threshold) + " bytes"), std::string::npos) << r.detail;
    EXPECT_NE(r.detail.find("smallest counterexample"), std::string::npos) << r.detail;
    // On ILP32, size_t cannot reach it: proved.
    EXPECT_OUTCOME(Outcome::proved, obj_charge_split_any_size(ilp32(page_size)));
  }
}

TEST(ProofsTeeth, ChargeTruncationThresholdFollowsTheParameterType) {
  LemmaResult r = obj_cgroup_charge_exact(lp64());
  ASSERT_EQ(r.outcome, Outcome::refuted) << r.detail;
  EXPECT_NE(r.detail.find("size=4294967296 bytes"), std::string::npos) << r.detail;
  // An unsigned short parameter would move the threshold to 2^16: the lemma
  // finds the truncation, whatever its width.
  LemmaResult narrow = obj_cgroup_charge_exact<ShortRequest>(lp64());
  ASSERT_EQ(narrow.outcome, Outcome::refuted) << narrow.detail;
  EXPECT_NE(narrow.detail.find("size=65536 bytes"), std::string::npos) << narrow.detail;
  EXPECT_OUTCOME(Outcome::refuted, obj_cgroup_charge_exact<ShortRequest>(ilp32()));
}

TEST(ProofsTeeth, ConsumeNeedsTheExactComparison) {
  EXPECT_OUTCOME(Outcome::refuted, obj_stock_consume_no_underflow<CoversOffByOne>(lp64()));
}

TEST(ProofsTeeth, RefillNeedsTheMaskAndTheStrictThreshold) {
  EXPECT_OUTCOME(Outcome::refuted, obj_stock_refill_conserves<RefillWrongMask>(lp64()));
  EXPECT_OUTCOME(Outcome::refuted, obj_stock_refill_conserves<RefillAtPageSize>(lp64(16384)));
}

TEST(ProofsTeeth, ChargeRefillBoundNeedsTheExactTail) {
  EXPECT_OUTCOME(Outcome::refuted, obj_stock_charge_refill_bound<TailPlusOne>(lp64()));
}

TEST(ProofsTeeth, DrainNeedsTheMaskAndTheFlush) {
  EXPECT_OUTCOME(Outcome::refuted, obj_stock_drain_conserves<DrainWrongMask>(lp64()));
  EXPECT_OUTCOME(Outcome::refuted, obj_stock_drain_conserves<RemainderDropped>(lp64()));
}

// ---- page_stock_lemmas ----

TEST(ProofsTeeth, PageStockRefillNeedsTheStrictBatchThreshold) {
  EXPECT_OUTCOME(Outcome::refuted, page_stock_refill_bound<RefillStockAtBatch>(lp64()));
  EXPECT_OUTCOME(Outcome::refuted, page_stock_refill_bound<RefillStockDoubleBatch>(lp64()));
}

TEST(ProofsTeeth, RestockNeedsTheExactDifference) {
  EXPECT_OUTCOME(Outcome::refuted, charge_batch_restock<RestockPlusOne>(lp64()));
}

TEST(ProofsTeeth, PageSideInductionNeedsTheBatchBoundAndTheRestock) {
  EXPECT_OUTCOME(Outcome::refuted, memcg_page_invariant_inductive<RefillStockDoubleBatch>(lp64()));
  EXPECT_OUTCOME(Outcome::refuted, memcg_page_invariant_inductive<RestockPlusOne>(ilp32()));
}

// ---- page_counter_lemmas ----

TEST(ProofsTeeth, TryChargeNeedsEveryRollbackLevelAndTheStrictLimit) {
  EXPECT_OUTCOME(Outcome::refuted, page_counter_try_charge_limit<RollbackMissesLevel>(lp64()));
  EXPECT_OUTCOME(Outcome::refuted, page_counter_try_charge_limit<TryChargeAtMax>(ilp32()));
}

TEST(ProofsTeeth, CancelNeedsTheClamp) {
  EXPECT_OUTCOME(Outcome::refuted, page_counter_cancel_clamps<CancelNoClamp>(lp64()));
}

// ---- objcg_lemmas ----

TEST(ProofsTeeth, ByteInductionNeedsTheDrainSplitAndTheFlush) {
  EXPECT_OUTCOME(Outcome::refuted, objcg_byte_invariant_inductive<DrainWrongMask>(lp64()));
  EXPECT_OUTCOME(Outcome::refuted, objcg_byte_invariant_inductive<RemainderDropped>(lp64(65536)));
  EXPECT_OUTCOME(Outcome::refuted, objcg_byte_invariant_inductive<RefillWrongMask>(lp64()));
}

TEST(ProofsTeeth, ReleaseNeedsTheExactShift) {
  EXPECT_OUTCOME(Outcome::refuted, objcg_release_aligned<ReleaseHalfPages>(lp64()));
}

TEST(ProofsTeeth, SlackNeedsTheBatchBoundAndTheTrim) {
  EXPECT_OUTCOME(Outcome::refuted, memcg_slack_bound<RefillStockDoubleBatch>(lp64()));
  EXPECT_OUTCOME(Outcome::refuted, memcg_slack_bound<RefillNeverTrims>(ilp32(16384)));
}

TEST(ProofsTeeth, HistoryRefutationsComeFromNrChargedBytes) {
  // Both expected refutations flow through nr_charged_bytes: without the
  // remainder flush no history reaches them, and the lemmas are proved.
  EXPECT_OUTCOME(Outcome::proved, objcg_release_witness<RemainderDropped>(lp64()));
  EXPECT_OUTCOME(Outcome::proved, obj_stock_comment_bound<RemainderDropped>(lp64()));
}

TEST(ProofsTeeth, ReparentNeedsTheRootInTheUnchargeWalk) {
  EXPECT_OUTCOME(Outcome::refuted, objcg_reparent_conservation<UnchargeSkipsRoot>(lp64()));
  EXPECT_OUTCOME(Outcome::refuted, objcg_reparent_conservation<UnchargeSkipsRoot>(ilp32(65536)));
}

// ---- kmem_size_lemmas ----

TEST(ProofsTeeth, PercpuSizeNeedsTheObjcgPointers) {
  EXPECT_OUTCOME(Outcome::refuted, kmem_charge_sizes_exact<PercpuNoPointers>(lp64()));
}

TEST(ProofsTeeth, KmemPageNeedsOneLessShift) {
  EXPECT_OUTCOME(Outcome::refuted, kmem_page_bytes_exact<KmemPageDouble>(lp64()));
}

// Every registered lemma has a teeth test above (by name, in this file).
TEST(ProofsTeeth, EveryLemmaHasTeeth) {
  const std::string covered[] = {
      "obj_charge_split_exact", "obj_charge_split_any_size", "obj_cgroup_charge_exact",
      "obj_stock_consume_no_underflow", "obj_stock_refill_conserves", "obj_stock_charge_refill_bound",
      "obj_stock_drain_conserves", "page_stock_refill_bound", "charge_batch_restock",
      "memcg_page_invariant_inductive", "page_counter_try_charge_limit", "page_counter_cancel_clamps",
      "objcg_byte_invariant_inductive", "objcg_release_aligned", "memcg_slack_bound", "objcg_release_witness",
      "obj_stock_comment_bound", "objcg_reparent_conservation", "kmem_charge_sizes_exact", "kmem_page_bytes_exact"};
  for (const Lemma& lemma : lemma_registry())
    EXPECT_NE(std::find(std::begin(covered), std::end(covered), lemma.name), std::end(covered))
        << lemma.name << " has no teeth test";
}

}  // namespace
