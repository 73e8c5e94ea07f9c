// page_counter (reference/page_counter.cc) and its use by try_charge_memcg:
// mm/page_counter.c and mm/memcontrol.c, v6.6.
#include <gtest/gtest.h>

#include "reference/kernel_state.h"
#include "tests/reference_harness.h"

namespace mv::reference::testing {
namespace {

// A booted kernel with /p and /p/c, driven below the Model interface.
struct Tree {
  spec::PathTable paths;
  spec::Config config;
  Kernel k;
  spec::MemcgId p = 0, c = 0;
  Tree() : k(boot_kernel(config, paths)) {
    EXPECT_EQ(cgroup_mkdir(k, *paths.intern("/p")), Errno::ok);
    EXPECT_EQ(cgroup_mkdir(k, *paths.intern("/p/c")), Errno::ok);
    p = 1;
    c = 2;
  }
  std::int64_t usage(spec::MemcgId id) const {
    return static_cast<std::int64_t>(k.memcg(id).memory.usage_bits);
  }
};

TEST(ReferencePageCounter, TryChargeFailsAtTheParentAndRollsBackTheChild) {
  Tree t;
  ASSERT_TRUE(page_counter_set_max(t.k, t.p, 10));
  EXPECT_FALSE(page_counter_try_charge(t.k, t.c, 8));
  EXPECT_EQ(t.usage(t.c), 8);
  EXPECT_EQ(t.usage(t.p), 8);
  EXPECT_EQ(t.usage(0), 8);

  auto fail = page_counter_try_charge(t.k, t.c, 3);
  ASSERT_TRUE(fail);
  EXPECT_EQ(*fail, t.p);
  // Every level is back where it was; only the failing level counts a failure.
  EXPECT_EQ(t.usage(t.c), 8);
  EXPECT_EQ(t.usage(t.p), 8);
  EXPECT_EQ(t.usage(0), 8);
  EXPECT_EQ(t.k.memcg(t.p).memory.failcnt, 1u);
  EXPECT_EQ(t.k.memcg(t.c).memory.failcnt, 0u);
  EXPECT_EQ(t.k.memcg(0).memory.failcnt, 0u);
  // The child was charged speculatively before the parent refused: its
  // watermark saw 11 (the kernel updates it at each level on the way up).
  EXPECT_EQ(t.k.memcg(t.c).memory.watermark_pages, 11u);
  EXPECT_EQ(t.k.memcg(t.p).memory.watermark_pages, 8u);
  EXPECT_TRUE(t.k.events.empty());
}

TEST(ReferencePageCounter, ChargeUpToExactlyMaxSucceeds) {
  Tree t;
  ASSERT_TRUE(page_counter_set_max(t.k, t.c, 10));
  EXPECT_FALSE(page_counter_try_charge(t.k, t.c, 10));  // new == max: not over
  auto fail = page_counter_try_charge(t.k, t.c, 1);
  ASSERT_TRUE(fail);
  EXPECT_EQ(*fail, t.c);
  EXPECT_EQ(t.k.memcg(t.c).memory.failcnt, 1u);
  EXPECT_EQ(t.usage(t.c), 10);
  EXPECT_EQ(t.usage(t.p), 10);
}

TEST(ReferencePageCounter, ForcedChargeIgnoresMax) {
  Tree t;
  ASSERT_TRUE(page_counter_set_max(t.k, t.p, 5));
  page_counter_charge(t.k, t.c, 7);
  EXPECT_EQ(t.usage(t.c), 7);
  EXPECT_EQ(t.usage(t.p), 7);
  EXPECT_EQ(t.k.memcg(t.p).memory.watermark_pages, 7u);
  EXPECT_EQ(t.k.memcg(t.p).memory.failcnt, 0u);
}

TEST(ReferencePageCounter, UnderflowIsReportedAndClampedAtEveryLevel) {
  Tree t;
  page_counter_charge(t.k, t.c, 8);
  page_counter_uncharge(t.k, t.c, 10);
  EXPECT_EQ(t.usage(t.c), 0);
  EXPECT_EQ(t.usage(t.p), 0);
  EXPECT_EQ(t.usage(0), 0);
  ASSERT_EQ(t.k.events.size(), 3u);
  for (const auto& event : t.k.events) {
    EXPECT_EQ(event.kind, spec::EventKind::page_counter_underflow);
    EXPECT_EQ(event.value, -2);  // the kernel's WARN prints new = 8 - 10
  }
  EXPECT_EQ(t.k.events[0].subject, t.c);
  EXPECT_EQ(t.k.events[1].subject, t.p);
  EXPECT_EQ(t.k.events[2].subject, 0u);
}

TEST(ReferencePageCounter, SetMaxRefusesBelowUsage) {
  Tree t;
  page_counter_charge(t.k, t.c, 8);
  EXPECT_FALSE(page_counter_set_max(t.k, t.c, 7));
  EXPECT_TRUE(page_counter_set_max(t.k, t.c, 8));  // usage > max is the refusal
  EXPECT_EQ(t.k.memcg(t.c).memory.max_pages, 8u);
}

TEST(ReferencePageCounter, TryChargeFailureThroughTheModel) {
  Sim sim(2);
  sim.mkdir("/p");
  sim.mkdir("/p/c");
  ASSERT_EQ(sim.set_max("/p", 10), Errno::ok);
  ASSERT_EQ(sim.set_max("/p/c", 100), Errno::ok);
  sim.spawn("t", "/p/c", 0);
  // 16 pages: the 64-page batch fits /p/c (max 100) but not /p (10); the
  // exact 16 fails at /p too; drain_all_stock(/p) finds nothing; the retry
  // and the 16 MAX_RECLAIM_RETRIES retries fail: 19 failures, all at /p.
  ASSERT_EQ(sim.page("t", "pg", 4), Errno::enomem);
  EXPECT_EQ(sim.cg("/p/c").usage_pages, 0);
  EXPECT_EQ(sim.cg("/p").usage_pages, 0);
  EXPECT_EQ(sim.root().usage_pages, 0);
  EXPECT_EQ(sim.cg("/p").failcnt, 19u);
  EXPECT_EQ(sim.cg("/p/c").failcnt, 0u);
  EXPECT_EQ(sim.root().failcnt, 0u);
  EXPECT_EQ(sim.cg("/p/c").watermark_pages, 64u);
  EXPECT_EQ(sim.cg("/p").watermark_pages, 0u);
  EXPECT_EQ(sim.objcg_of("/p/c").refs, 1);
  EXPECT_EQ(sim.objcg_of("/p/c").charged_pages, 0);
  EXPECT_FALSE(sim.live("pg"));

  // With __GFP_NOFAIL the same 19 failures, then exactly 16 pages forced.
  ASSERT_EQ(sim.page("t", "forced", 4, /*nofail=*/true), Errno::ok);
  EXPECT_EQ(sim.cg("/p").failcnt, 38u);
  EXPECT_EQ(sim.cg("/p/c").usage_pages, 16);
  EXPECT_EQ(sim.cg("/p").usage_pages, 16);  // past its max of 10
  EXPECT_EQ(sim.root().usage_pages, 16);
  EXPECT_EQ(sim.cg("/p").watermark_pages, 16u);
  EXPECT_EQ(sim.cg("/p/c").watermark_pages, 64u);
  EXPECT_FALSE(sim.page_stock(0));
  EXPECT_EQ(sim.objcg_of("/p/c").charged_pages, 16);
  EXPECT_EQ(sim.object("forced").charged_bytes, 16u * 4096u);

  // Lowering /p/c below its usage: drain_all_stock, then still EBUSY.
  EXPECT_EQ(sim.set_max("/p/c", 15), Errno::ebusy);
  EXPECT_EQ(sim.cg("/p/c").max_pages, std::optional<std::uint64_t>(100));
}

TEST(ReferencePageCounter, BatchFailureFallsBackToTheExactCharge) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.set_max("/a", 10);
  sim.spawn("t", "/a", 0);
  ASSERT_EQ(sim.page("t", "p", 2), Errno::ok);  // 64 fails, 4 fits, nothing stocked
  EXPECT_EQ(sim.cg("/a").usage_pages, 4);
  EXPECT_EQ(sim.cg("/a").failcnt, 1u);
  EXPECT_FALSE(sim.page_stock(0));
}

TEST(ReferencePageCounter, MaxAboveLimitIsClampedToPageCounterMax) {
  Sim sim(1);
  sim.mkdir("/a");
  ASSERT_EQ(sim.set_max("/a", 10), Errno::ok);
  EXPECT_EQ(sim.cg("/a").max_pages, std::optional<std::uint64_t>(10));
  ASSERT_EQ(sim.set_max("/a", ~std::uint64_t{0}), Errno::ok);
  EXPECT_EQ(sim.cg("/a").max_pages, std::nullopt);  // PAGE_COUNTER_MAX is "max"
  ASSERT_EQ(sim.set_max("/a", 10), Errno::ok);
  ASSERT_EQ(sim.set_max("/a", std::nullopt), Errno::ok);
  EXPECT_EQ(sim.cg("/a").max_pages, std::nullopt);
}

}  // namespace
}  // namespace mv::reference::testing
