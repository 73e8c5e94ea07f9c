// The per-CPU page stock (reference/page_stock.cc): consume_stock,
// __refill_stock and drain_stock of mm/memcontrol.c v6.6.
#include <gtest/gtest.h>

#include "tests/reference_harness.h"

namespace mv::reference::testing {
namespace {

TEST(ReferencePageStock, OverflowDrainIsStrictlyAboveTheBatch) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  sim.page("t", "p1", 0);  // batch of 64: 63 stocked on CPU 0
  sim.page("t", "p2", 0);  // consume_stock: 62
  ASSERT_EQ(sim.page_stock(0)->nr_pages, 62u);
  sim.run_on("t", 1);
  sim.page("t", "q", 0);  // a second batch on CPU 1
  ASSERT_EQ(sim.cg("/a").usage_pages, 128);
  ASSERT_EQ(sim.page_stock(1)->nr_pages, 63u);

  sim.free("p1", 0);
  sim.free("p2", 0);
  // 64 == MEMCG_CHARGE_BATCH: a full batch stays cached.
  ASSERT_TRUE(sim.page_stock(0));
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 64u);
  EXPECT_EQ(sim.cg("/a").usage_pages, 128);

  sim.free("q", 0);
  // 65 > 64: drain_stock uncharges all 65 and uncaches /a.
  EXPECT_FALSE(sim.page_stock(0));
  EXPECT_EQ(sim.cg("/a").usage_pages, 63);  // CPU 1's stock
  EXPECT_EQ(sim.root().usage_pages, 63);
  EXPECT_EQ(sim.cg("/a").css_refs, 2 + 1 + 1);  // base, ID, task, CPU 1's stock
}

TEST(ReferencePageStock, ChargesAboveTheBatchBypassTheStock) {
  Sim sim(1);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  sim.page("t", "small", 0);
  ASSERT_EQ(sim.page_stock(0)->nr_pages, 63u);
  // 128 pages: consume_stock refuses (> MEMCG_CHARGE_BATCH), batch =
  // max(64, 128) = 128 is charged exactly, nothing to restock.
  ASSERT_EQ(sim.page("t", "big", 7), Errno::ok);
  EXPECT_EQ(sim.cg("/a").usage_pages, 64 + 128);
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 63u);
  // Freeing it refills 63 + 128 > 64: everything in the stock is uncharged.
  sim.free("big", 0);
  EXPECT_FALSE(sim.page_stock(0));
  EXPECT_EQ(sim.cg("/a").usage_pages, 1);
}

TEST(ReferencePageStock, ExactlyABatchIsChargedWithoutRestock) {
  Sim sim(1);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  ASSERT_EQ(sim.page("t", "p", 6), Errno::ok);  // 64 pages: batch == nr_pages
  EXPECT_EQ(sim.cg("/a").usage_pages, 64);
  EXPECT_FALSE(sim.page_stock(0));
  EXPECT_EQ(sim.cg("/a").css_refs, 3);  // no stock reference
}

TEST(ReferencePageStock, RefillForAnotherMemcgDrainsTheCachedOne) {
  Sim sim(1);
  sim.mkdir("/a");
  sim.mkdir("/b");
  sim.spawn("ta", "/a", 0);
  sim.spawn("tb", "/b", 0);
  sim.page("ta", "pa", 0);
  ASSERT_EQ(sim.cg("/a").css_refs, 4);
  sim.page("tb", "pb", 0);
  // try_charge_memcg(/b) misses the stock (it caches /a), charges a batch,
  // refill_stock(/b) drains /a's 63 pages and moves the css reference.
  EXPECT_EQ(sim.cg("/a").usage_pages, 1);
  EXPECT_EQ(sim.cg("/b").usage_pages, 64);
  EXPECT_EQ(sim.root().usage_pages, 65);
  EXPECT_EQ(sim.page_stock(0)->memcg, sim.id("/b"));
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 63u);
  EXPECT_EQ(sim.cg("/a").css_refs, 3);
  EXPECT_EQ(sim.cg("/b").css_refs, 4);
}

TEST(ReferencePageStock, DrainGivesEverythingBack) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 1);
  sim.page("t", "p", 0);
  ASSERT_EQ(sim.drain(1), Errno::ok);
  EXPECT_FALSE(sim.page_stock(1));
  EXPECT_EQ(sim.cg("/a").usage_pages, 1);
  EXPECT_EQ(sim.cg("/a").css_refs, 3);
  ASSERT_EQ(sim.drain(1), Errno::ok);  // draining an empty stock changes nothing
  EXPECT_EQ(sim.cg("/a").usage_pages, 1);
  EXPECT_TRUE(sim.snap().events.empty());
}

}  // namespace
}  // namespace mv::reference::testing
