// The per-CPU page stock (reference/page_stock.cc): consume_stock,
// __refill_stock and drain_stock of mm/memcontrol.c v6.6.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "arith/page_stock.h"
#include "reference/kernel_state.h"
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

// --- v6.16: seven slots, and the local_trylock paths --------------------------
// A stock lock taken by hand stands for a holder interrupted on its CPU (an
// irq or NMI allocating inside the critical section): the only way the
// kernel's local_trylock fails (reference/kernel_state.h).

struct V616 {
  spec::PathTable paths;
  spec::Config config = [] {
    spec::Config c;
    c.profile = spec::Profile::v6_16;
    c.ncpus = 2;
    return c;
  }();
  Kernel k = boot_kernel(config, paths);
  spec::MemcgId mkdir(const char* path) {
    EXPECT_EQ(cgroup_mkdir(k, *paths.intern(path)), Errno::ok);
    return static_cast<spec::MemcgId>(k.memcgs.size() - 1);
  }
};

TEST(ReferencePageStockV616, RefillWithTheLockTakenUnchargesDirectly) {
  V616 s;
  const auto a = s.mkdir("/a");
  page_counter_charge(s.k, a, 10);
  refill_stock(s.k, 0, a, 4);  // the lock is free: a slot caches /a
  ASSERT_EQ(s.k.stock(0).page.slots[0].cached, a);
  ASSERT_EQ(s.k.stock(0).page.slots[0].nr_pages, 4u);
  const auto css = s.k.memcg(a).css_refs;

  ASSERT_TRUE(local_trylock(s.k, 0, StockLock::memcg));  // the interrupted holder
  refill_stock(s.k, 0, a, 3);
  // memcg_uncharge of the 3 pages; the slot is untouched.
  EXPECT_EQ(s.k.memcg(a).memory.usage_bits, 7u);
  EXPECT_EQ(s.k.stock(0).page.slots[0].nr_pages, 4u);
  EXPECT_EQ(s.k.memcg(a).css_refs, css);
  // consume_stock: a miss, though the slot has the pages.
  EXPECT_FALSE(consume_stock(s.k, 0, a, 1));
  EXPECT_EQ(s.k.stock(0).page.slots[0].nr_pages, 4u);
  local_unlock(s.k, 0, StockLock::memcg);
  EXPECT_TRUE(consume_stock(s.k, 0, a, 1));
  EXPECT_EQ(s.k.stock(0).page.slots[0].nr_pages, 3u);
  // A refill larger than a batch bypasses the stock as well.
  page_counter_charge(s.k, a, 65);
  refill_stock(s.k, 0, a, 65);
  EXPECT_EQ(s.k.memcg(a).memory.usage_bits, 7u);
  EXPECT_EQ(s.k.stock(0).page.slots[0].nr_pages, 3u);
}

TEST(ReferencePageStockV616, RefillObjStockWithTheLockTakenBypassesTheByteStock) {
  V616 s;
  const auto a = s.mkdir("/a");
  const auto objcg = *s.k.memcg(a).objcg;
  page_counter_charge(s.k, a, 2);
  s.k.objcg(objcg).charged_pages = 2;
  const auto refs = s.k.objcg(objcg).refs;
  ASSERT_TRUE(local_trylock(s.k, 1, StockLock::obj));
  // 4096 + 100 bytes: one page to obj_cgroup_uncharge_pages (this CPU's page
  // stock, whose lock is free), 100 bytes to nr_charged_bytes; the byte stock
  // caches nothing and takes no reference.
  refill_obj_stock(s.k, 1, objcg, 4196, true);
  EXPECT_FALSE(s.k.stock(1).obj.cached_objcg.has_value());
  EXPECT_EQ(s.k.objcg(objcg).nr_charged_bytes, 100u);
  EXPECT_EQ(s.k.objcg(objcg).charged_pages, 1);
  EXPECT_EQ(s.k.objcg(objcg).refs, refs);
  EXPECT_EQ(s.k.stock(1).page.slots[0].cached, a);
  EXPECT_EQ(s.k.stock(1).page.slots[0].nr_pages, 1u);
  // consume_obj_stock: a miss while the lock is taken.
  EXPECT_FALSE(consume_obj_stock(s.k, 1, objcg, 1));
  local_unlock(s.k, 1, StockLock::obj);
  refill_obj_stock(s.k, 1, objcg, 50, true);  // now cached, with nr_charged_bytes taken over
  EXPECT_EQ(s.k.stock(1).obj.cached_objcg, objcg);
  EXPECT_EQ(s.k.stock(1).obj.nr_bytes, 150u);
  EXPECT_EQ(s.k.objcg(objcg).nr_charged_bytes, 0u);
  EXPECT_TRUE(consume_obj_stock(s.k, 1, objcg, 150));
}

TEST(ReferencePageStockV616, TheEvictedSlotIsTheCpusNextValueOfTheFixedSequence) {
  V616 s;
  std::vector<spec::MemcgId> memcgs;
  for (const char* p : {"/a", "/b", "/c", "/d", "/e", "/f", "/g", "/h", "/i"}) memcgs.push_back(s.mkdir(p));
  for (int i = 0; i < 7; ++i) refill_stock(s.k, 1, memcgs[i], 1);
  EXPECT_EQ(s.k.stock(1).page.evictions, 0u);
  // Two evictions on CPU 1: the first two values of its sequence.
  for (int n = 0; n < 2; ++n) {
    const std::uint32_t slot = arith::page_stock_evicted_slot(1, n, 7);
    ASSERT_EQ(evicted_slot(s.k, 1), slot);
    const auto evicted = *s.k.stock(1).page.slots[slot].cached;
    refill_stock(s.k, 1, memcgs[7 + n], 1);
    EXPECT_EQ(s.k.stock(1).page.slots[slot].cached, memcgs[7 + n]);
    EXPECT_EQ(s.k.stock(1).page.evictions, n + 1u);
    for (const auto& other : s.k.stock(1).page.slots) EXPECT_NE(other.cached, evicted);
  }
  // The sequence is per CPU and uses every slot.
  std::set<std::uint32_t> seen;
  for (std::uint32_t n = 0; n < 64; ++n) seen.insert(arith::page_stock_evicted_slot(0, n, 7));
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_EQ(arith::page_stock_evicted_slot(0, 0, 7), 2u);  // v616_page_stock_eviction's slot
}

}  // namespace
}  // namespace mv::reference::testing
