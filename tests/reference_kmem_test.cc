// Accounted allocations of every kind (reference/kmem.cc), numbers computed by
// hand from mm/memcontrol.c, mm/slab.h, mm/percpu.c and kernel/fork.c (v6.6).
#include <gtest/gtest.h>

#include "tests/reference_harness.h"

namespace mv::reference::testing {
namespace {

using spec::AllocKind;

TEST(ReferenceKmem, FirstSlabAllocationOnEmptySystem) {
  Sim sim(4, 4096);
  ASSERT_EQ(sim.mkdir("/a"), Errno::ok);
  ASSERT_EQ(sim.spawn("t1", "/a", 0), Errno::ok);
  ASSERT_EQ(sim.slab("t1", "o1", 128), Errno::ok);

  // obj_full_size = 128 + sizeof(struct obj_cgroup *) = 136.
  EXPECT_EQ(sim.object("o1").charged_bytes, 136u);
  EXPECT_EQ(sim.object("o1").objcg, spec::ObjcgId{1});
  EXPECT_EQ(sim.object("o1").nr_kmem_pages, 0u);
  // try_charge_memcg charges a 64-page batch to /a and /.
  EXPECT_EQ(sim.cg("/a").usage_pages, 64);
  EXPECT_EQ(sim.root().usage_pages, 64);
  EXPECT_EQ(sim.cg("/a").watermark_pages, 64u);
  // refill_stock keeps batch - 1 = 63 pages on CPU 0.
  ASSERT_TRUE(sim.page_stock(0));
  EXPECT_EQ(sim.page_stock(0)->memcg, sim.id("/a"));
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 63u);
  // The tail of the page, 4096 - 136, goes to the byte stock.
  EXPECT_EQ(sim.stock(0).cached_objcg, spec::ObjcgId{1});
  EXPECT_EQ(sim.stock(0).nr_bytes, 3960u);
  // objcg refs: initial + the object + the byte stock.
  EXPECT_EQ(sim.objcg_of("/a").refs, 3);
  EXPECT_EQ(sim.objcg_of("/a").charged_pages, 1);
  EXPECT_EQ(sim.objcg_of("/a").nr_charged_bytes, 0u);
  // css refs of /a: base + ID + task + page stock.
  EXPECT_EQ(sim.cg("/a").css_refs, 4);
  for (spec::Cpu cpu = 1; cpu < 4; ++cpu) {
    EXPECT_FALSE(sim.page_stock(cpu)) << "cpu " << cpu;
    EXPECT_FALSE(sim.stock(cpu).cached_objcg) << "cpu " << cpu;
  }
  EXPECT_EQ(sim.snap().pending_work, 0u);
  EXPECT_TRUE(sim.snap().events.empty());
}

TEST(ReferenceKmem, SecondSlabAllocationIsAByteStockHit) {
  Sim sim;
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  sim.slab("t", "o1", 128);
  ASSERT_EQ(sim.slab("t", "o2", 128), Errno::ok);
  EXPECT_EQ(sim.stock(0).nr_bytes, 3960u - 136u);
  EXPECT_EQ(sim.cg("/a").usage_pages, 64);
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 63u);
  EXPECT_EQ(sim.objcg_of("/a").refs, 4);
  EXPECT_EQ(sim.objcg_of("/a").charged_pages, 1);
}

TEST(ReferenceKmem, RootTaskAllocatesUncharged) {
  Sim sim;
  sim.spawn("t", "/", 1);
  ASSERT_EQ(sim.slab("t", "o", 128), Errno::ok);
  ASSERT_EQ(sim.stack("t", "s"), Errno::ok);
  EXPECT_EQ(sim.object("o").charged_bytes, 0u);
  EXPECT_FALSE(sim.object("o").objcg);
  EXPECT_EQ(sim.object("s").charged_bytes, 0u);
  EXPECT_EQ(sim.object("s").nr_kmem_pages, 0u);
  EXPECT_EQ(sim.root().usage_pages, 0);
  EXPECT_FALSE(sim.page_stock(1));
  ASSERT_EQ(sim.free("o"), Errno::ok);
  ASSERT_EQ(sim.free("s"), Errno::ok);
  EXPECT_TRUE(sim.snap().objects.empty());
  EXPECT_EQ(sim.root().usage_pages, 0);
}

TEST(ReferenceKmem, KmemPageChargesWholePagesThroughObjcg) {
  Sim sim;
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  ASSERT_EQ(sim.page("t", "p", 2), Errno::ok);
  EXPECT_EQ(sim.object("p").charged_bytes, 4u * 4096u);
  EXPECT_EQ(sim.object("p").nr_kmem_pages, 1u);
  EXPECT_EQ(sim.cg("/a").usage_pages, 64);
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 60u);
  EXPECT_EQ(sim.objcg_of("/a").refs, 2);  // initial + the page
  EXPECT_EQ(sim.objcg_of("/a").charged_pages, 4);
  EXPECT_FALSE(sim.stock(0).cached_objcg);  // no byte stock involved
  ASSERT_EQ(sim.free("p", 0), Errno::ok);
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 64u);  // a full batch stays
  EXPECT_EQ(sim.objcg_of("/a").refs, 1);
  EXPECT_EQ(sim.objcg_of("/a").charged_pages, 0);
}

TEST(ReferenceKmem, StackIsFourPagesAt4K) {
  Sim sim;
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  ASSERT_EQ(sim.stack("t", "s"), Errno::ok);
  // THREAD_SIZE 16K / 4K: four order-0 charges, one objcg ref each.
  EXPECT_EQ(sim.object("s").charged_bytes, 16384u);
  EXPECT_EQ(sim.object("s").nr_kmem_pages, 4u);
  EXPECT_EQ(sim.objcg_of("/a").refs, 1 + 4);
  EXPECT_EQ(sim.objcg_of("/a").charged_pages, 4);
  // The first page charged a batch; the other three came from the stock.
  EXPECT_EQ(sim.cg("/a").usage_pages, 64);
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 60u);
  ASSERT_EQ(sim.free("s", 0), Errno::ok);
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 64u);
  EXPECT_EQ(sim.objcg_of("/a").refs, 1);
  EXPECT_EQ(sim.objcg_of("/a").charged_pages, 0);
}

TEST(ReferenceKmem, StackIsOnePageAt64K) {
  Sim sim(2, 65536);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 1);
  ASSERT_EQ(sim.stack("t", "s"), Errno::ok);
  // THREAD_SIZE is raised to PAGE_SIZE: one 64K page.
  EXPECT_EQ(sim.object("s").charged_bytes, 65536u);
  EXPECT_EQ(sim.object("s").nr_kmem_pages, 1u);
  EXPECT_EQ(sim.objcg_of("/a").refs, 2);
  EXPECT_EQ(sim.page_stock(1)->nr_pages, 63u);
}

// The stack error path of memcg_charge_kernel_stack: v6.6 uncharges the
// nr_charged pages, v6.1 every page (skipping those without memcg_data); the
// same pages go back either way.
class StackRollback : public ::testing::TestWithParam<spec::Profile> {};

TEST_P(StackRollback, WhenTheThirdPageFails) {
  Sim sim(2, 4096, GetParam());
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  ASSERT_EQ(sim.set_max("/a", 2), Errno::ok);
  ASSERT_EQ(sim.stack("t", "s"), Errno::enomem);
  EXPECT_FALSE(sim.live("s"));
  // Pages 1 and 2: the 64-page batch fails, the single page fits (failcnt 1
  // each). Page 3: 19 failed attempts (the batch, the page, the page after
  // drain_all_stock, 16 MAX_RECLAIM_RETRIES): failcnt 21. Then
  // memcg_kmem_uncharge_page gives pages 1 and 2 back through refill_stock:
  // they stay charged, in CPU 0's page stock.
  EXPECT_EQ(sim.cg("/a").failcnt, 21u);
  EXPECT_EQ(sim.cg("/a").usage_pages, 2);
  EXPECT_EQ(sim.cg("/a").watermark_pages, 2u);
  ASSERT_TRUE(sim.page_stock(0));
  EXPECT_EQ(sim.page_stock(0)->memcg, sim.id("/a"));
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 2u);
  // Every page's objcg reference was put again.
  EXPECT_EQ(sim.objcg_of("/a").refs, 1);
  EXPECT_EQ(sim.objcg_of("/a").charged_pages, 0);
  EXPECT_EQ(sim.cg("/a").css_refs, 4);  // base + ID + task + page stock
}

// memcg_charge_kernel_stack always passes GFP_KERNEL: an op asking for
// nofail (the trace reader refuses it) still fails at the limit.
TEST_P(StackRollback, NofailIsNeverPassedToTheStackCharge) {
  Sim sim(2, 4096, GetParam());
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  sim.set_max("/a", 2);
  ASSERT_EQ(sim.stack("t", "s", /*nofail=*/true), Errno::enomem);
  EXPECT_EQ(sim.cg("/a").failcnt, 21u);
  EXPECT_EQ(sim.cg("/a").usage_pages, 2);
  EXPECT_EQ(sim.cg("/a").watermark_pages, 2u);
  EXPECT_FALSE(sim.live("s"));
}

INSTANTIATE_TEST_SUITE_P(V61AndV66, StackRollback,
                         ::testing::Values(spec::Profile::v6_1, spec::Profile::v6_6),
                         [](const auto& info) {
                           return info.param == spec::Profile::v6_1 ? std::string("v6_1")
                                                                    : std::string("v6_6");
                         });

TEST(ReferenceKmem, PercpuChargesPayloadOnEveryCpuPlusObjcgPointers) {
  Sim sim(4);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  // size 10 is aligned to 12; pcpu_obj_full_size = 12 * 4 CPUs + 12 / 4 * 8.
  ASSERT_EQ(sim.percpu("t", "pc", 10), Errno::ok);
  EXPECT_EQ(sim.object("pc").charged_bytes, 48u + 24u);
  EXPECT_EQ(sim.stock(0).nr_bytes, 4096u - 72u);
  // The pre-hook's reference is the object's: initial + object + stock.
  EXPECT_EQ(sim.objcg_of("/a").refs, 3);
  ASSERT_EQ(sim.free("pc", 0), Errno::ok);
  EXPECT_EQ(sim.stock(0).nr_bytes, 4096u);  // exactly PAGE_SIZE stays
  EXPECT_EQ(sim.objcg_of("/a").refs, 2);
}

TEST(ReferenceKmem, PercpuCountsOfflineCpusAsPossible) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  ASSERT_EQ(sim.cpu_offline(1), Errno::ok);
  // num_possible_cpus() is still 2: 100 * 2 + 100 / 4 * 8.
  ASSERT_EQ(sim.percpu("t", "pc", 100), Errno::ok);
  EXPECT_EQ(sim.object("pc").charged_bytes, 200u + 200u);
}

TEST(ReferenceKmem, PercpuSizeOutsidePcpuAllocLimitsIsRefusedUncharged) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  EXPECT_EQ(sim.percpu("t", "big", 32768 + 1), Errno::enomem);
  EXPECT_EQ(sim.percpu("t", "zero", 0), Errno::enomem);
  EXPECT_EQ(sim.cg("/a").usage_pages, 0);
  EXPECT_EQ(sim.objcg_of("/a").refs, 1);
  EXPECT_EQ(sim.percpu("t", "edge", 32768), Errno::ok);
  EXPECT_EQ(sim.object("edge").charged_bytes, 32768u * 2u + 8192u * 8u);
}

TEST(ReferenceKmem, FailedSlabChargePutsThePreHookReference) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  sim.set_max("/a", 1);
  ASSERT_EQ(sim.slab("t", "big", 8000), Errno::enomem);  // 8008 bytes: 2 pages
  EXPECT_EQ(sim.objcg_of("/a").refs, 1);
  EXPECT_EQ(sim.cg("/a").usage_pages, 0);
  EXPECT_FALSE(sim.stock(0).cached_objcg);
  ASSERT_EQ(sim.slab("t", "small", 100), Errno::ok);  // 1 page fits
  EXPECT_EQ(sim.cg("/a").usage_pages, 1);
  EXPECT_EQ(sim.stock(0).nr_bytes, 4096u - 108u);
}

}  // namespace
}  // namespace mv::reference::testing
