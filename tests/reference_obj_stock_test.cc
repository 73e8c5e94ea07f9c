// The per-CPU byte stock (reference/obj_stock.cc): consume_obj_stock,
// refill_obj_stock, drain_obj_stock, mod_objcg_state of mm/memcontrol.c v6.6.
#include <gtest/gtest.h>

#include "tests/reference_harness.h"

namespace mv::reference::testing {
namespace {

TEST(ReferenceObjStock, ByteThresholdIsStrictlyAbovePageSize) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  // 4088 + 8 = 4096 bytes: one page and no tail, so obj_cgroup_charge does not
  // touch the byte stock; mod_objcg_state then caches the objcg with 0 bytes.
  sim.slab("t", "o1", 4088);
  ASSERT_EQ(sim.stock(0).cached_objcg, spec::ObjcgId{1});
  ASSERT_EQ(sim.stock(0).nr_bytes, 0u);
  sim.run_on("t", 1);
  sim.slab("t", "o2", 84);  // 92 bytes on CPU 1: 4096 - 92 = 4004 stocked there
  ASSERT_EQ(sim.stock(1).nr_bytes, 4004u);
  ASSERT_EQ(sim.objcg_of("/a").charged_pages, 2);

  sim.free("o1", 0);
  // 0 + 4096 == PAGE_SIZE: not > PAGE_SIZE, nothing uncharged.
  EXPECT_EQ(sim.stock(0).nr_bytes, 4096u);
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 63u);
  EXPECT_EQ(sim.objcg_of("/a").charged_pages, 2);

  sim.free("o2", 0);
  // 4096 + 92 = 4188 > 4096: one page goes to the page stock, 92 bytes stay.
  EXPECT_EQ(sim.stock(0).nr_bytes, 92u);
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 64u);
  EXPECT_EQ(sim.objcg_of("/a").charged_pages, 1);
  // Byte conservation: 92 + 4004 bytes in the stocks make the 1 page charged.
  EXPECT_EQ(sim.stock(0).nr_bytes + sim.stock(1).nr_bytes, 4096u);
}

TEST(ReferenceObjStock, FreeOnAnotherCpuReplacesThatCpusCachedObjcg) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.mkdir("/b");
  sim.spawn("ta", "/a", 0);
  sim.spawn("tb", "/b", 1);
  sim.slab("ta", "o1", 128);
  sim.slab("tb", "o2", 128);
  const auto a = sim.objcg_of("/a").id;
  const auto b = sim.objcg_of("/b").id;
  ASSERT_EQ(sim.stock(1).cached_objcg, b);
  ASSERT_EQ(sim.stock(1).nr_bytes, 3960u);

  ASSERT_EQ(sim.free("o1", 1), Errno::ok);
  // refill_obj_stock on CPU 1: drain_obj_stock flushes /b's 3960 bytes into its
  // nr_charged_bytes (no whole page), then caches /a's objcg with 136 bytes.
  EXPECT_EQ(sim.stock(1).cached_objcg, a);
  EXPECT_EQ(sim.stock(1).nr_bytes, 136u);
  EXPECT_EQ(sim.snap().objcg(b).nr_charged_bytes, 3960u);
  EXPECT_EQ(sim.snap().objcg(a).nr_charged_bytes, 0u);
  EXPECT_EQ(sim.snap().objcg(a).refs, 3);  // initial + both stocks
  EXPECT_EQ(sim.snap().objcg(b).refs, 2);  // initial + o2
  EXPECT_EQ(sim.stock(0).nr_bytes, 3960u);  // CPU 0 untouched
  EXPECT_EQ(sim.page_stock(1)->memcg, sim.id("/b"));
  EXPECT_EQ(sim.page_stock(1)->nr_pages, 63u);

  ASSERT_EQ(sim.free("o2", 1), Errno::ok);
  // Back to /b's objcg: /a's 136 bytes go to its nr_charged_bytes, /b's stock
  // takes back its 3960 and adds 136: exactly PAGE_SIZE, kept.
  EXPECT_EQ(sim.stock(1).cached_objcg, b);
  EXPECT_EQ(sim.stock(1).nr_bytes, 4096u);
  EXPECT_EQ(sim.snap().objcg(a).nr_charged_bytes, 136u);
  EXPECT_EQ(sim.snap().objcg(b).nr_charged_bytes, 0u);
  EXPECT_EQ(sim.snap().objcg(a).refs, 2);
  EXPECT_EQ(sim.snap().objcg(b).refs, 2);
}

TEST(ReferenceObjStock, ChargeRefillMayExceedPageSize) {
  Sim sim(1);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  sim.slab("t", "o1", 84);  // 4004 bytes stocked
  // 5000 + 8 = 5008: the stock cannot cover it; 2 pages come from the page
  // stock (61 left), the tail 4096 - 912 = 3184 is refilled with
  // allow_uncharge = false: 4004 + 3184 = 7188 bytes stay in the stock.
  ASSERT_EQ(sim.slab("t", "o2", 5000), Errno::ok);
  EXPECT_EQ(sim.stock(0).nr_bytes, 7188u);
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 61u);
  EXPECT_EQ(sim.objcg_of("/a").charged_pages, 3);
  EXPECT_EQ(sim.cg("/a").usage_pages, 64);
  // Draining gives the whole page back through __refill_stock and the
  // remainder to nr_charged_bytes.
  sim.drain(0);
  EXPECT_EQ(sim.objcg_of("/a").nr_charged_bytes, 7188u - 4096u);
  EXPECT_EQ(sim.objcg_of("/a").charged_pages, 2);
  EXPECT_EQ(sim.cg("/a").usage_pages, 2);
  EXPECT_FALSE(sim.stock(0).cached_objcg);
  EXPECT_EQ(sim.objcg_of("/a").refs, 3);  // initial + two objects
}

TEST(ReferenceObjStock, PageMultipleSlabReplacesCachedObjcgThroughModObjcgState) {
  Sim sim(1);
  sim.mkdir("/a");
  sim.mkdir("/b");
  sim.spawn("ta", "/a", 0);
  sim.spawn("tb", "/b", 0);
  sim.slab("ta", "oa", 128);  // CPU 0 caches /a's objcg with 3960 bytes
  const auto a = sim.objcg_of("/a").id;
  const auto b = sim.objcg_of("/b").id;
  // 8184 + 8 = 8192: two pages, no tail, no refill_obj_stock; the stock is
  // changed only by mod_objcg_state.
  ASSERT_EQ(sim.slab("tb", "ob", 8184), Errno::ok);
  EXPECT_EQ(sim.stock(0).cached_objcg, b);
  EXPECT_EQ(sim.stock(0).nr_bytes, 0u);
  EXPECT_EQ(sim.snap().objcg(a).nr_charged_bytes, 3960u);
  EXPECT_EQ(sim.snap().objcg(a).refs, 2);  // initial + oa
  EXPECT_EQ(sim.snap().objcg(b).refs, 3);  // initial + ob + stock
}

TEST(ReferenceObjStock, RefillTakesOverNrChargedBytes) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  sim.slab("t", "o1", 128);
  sim.drain(0);  // 3960 bytes to nr_charged_bytes
  ASSERT_EQ(sim.objcg_of("/a").nr_charged_bytes, 3960u);
  sim.free("o1", 1);
  // CPU 1 caches the objcg: atomic_xchg(&nr_charged_bytes, 0) + 136 = 4096.
  EXPECT_EQ(sim.objcg_of("/a").nr_charged_bytes, 0u);
  EXPECT_EQ(sim.stock(1).nr_bytes, 4096u);
  EXPECT_EQ(sim.objcg_of("/a").refs, 2);
}

TEST(ReferenceObjStock, ReplacingTheCachedObjcgForcesAllowUncharge) {
  Sim sim(1);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  sim.slab("t", "o1", 128);
  sim.drain(0);  // nr_charged_bytes 3960, both stocks empty
  ASSERT_EQ(sim.objcg_of("/a").nr_charged_bytes, 3960u);
  // The charge path refills 4096 - 136 with allow_uncharge = false, but the
  // stock caches a new objcg, which forces allow_uncharge: 3960 + 3960 = 7920
  // > 4096, so one page goes back at once and 3824 bytes stay.
  ASSERT_EQ(sim.slab("t", "o2", 128), Errno::ok);
  EXPECT_EQ(sim.stock(0).nr_bytes, 7920u - 4096u);
  EXPECT_EQ(sim.objcg_of("/a").nr_charged_bytes, 0u);
  EXPECT_EQ(sim.objcg_of("/a").charged_pages, 1);
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 64u);  // 63 + the page given back
}

}  // namespace
}  // namespace mv::reference::testing
