// Deferred work and whole-stock drains (reference/deferred.cc,
// drain_all_stock and memcg_hotplug_cpu_dead): mm/memcontrol.c v6.6.
#include <gtest/gtest.h>

#include "tests/reference_harness.h"

namespace mv::reference::testing {
namespace {

using spec::CgroupState;

// queue_work_on (v6.6) queues nothing while the work is pending
// (WORK_STRUCT_PENDING). The model-only `drain` op clears FLUSHING while CPU
// 1's drain work is still queued; the next drain_all_stock sets FLUSHING again
// and schedule_work_on finds the work pending: one item, not two (as the impl).
TEST(ReferenceDeferred, DrainOfAFlushingCpuDoesNotQueueItsWorkTwice) {
  Sim sim(2);
  ASSERT_EQ(sim.mkdir("/a"), Errno::ok);
  ASSERT_EQ(sim.spawn("t", "/a", 1), Errno::ok);
  ASSERT_EQ(sim.slab("t", "o", 128), Errno::ok);
  ASSERT_EQ(sim.drain_all("/a", 0), Errno::ok);
  ASSERT_EQ(sim.snap().pending_work, 1u);
  ASSERT_EQ(sim.drain(1), Errno::ok);
  EXPECT_FALSE(sim.stock(1).flushing);
  ASSERT_EQ(sim.slab("t", "o2", 128), Errno::ok);  // CPU 1 caches /a's objcg again
  ASSERT_EQ(sim.drain_all("/a", 0), Errno::ok);
  EXPECT_TRUE(sim.stock(1).flushing);
  EXPECT_EQ(sim.snap().pending_work, 1u);
  ASSERT_EQ(sim.quiesce(), Errno::ok);
  EXPECT_FALSE(sim.stock(1).flushing);
  EXPECT_EQ(sim.stock(1).nr_bytes, 0u);
  EXPECT_EQ(sim.snap().pending_work, 0u);
}

TEST(ReferenceDeferred, DrainAllQueuesRemoteCpusUntilQuiesce) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 1);
  sim.slab("t", "o1", 56);  // 64 bytes: 4032 stocked on CPU 1, 63 pages
  ASSERT_EQ(sim.drain_all("/a", 0), Errno::ok);
  EXPECT_EQ(sim.snap().pending_work, 1u);
  EXPECT_TRUE(sim.stock(1).flushing);
  EXPECT_EQ(sim.page_stock(1)->nr_pages, 63u);  // not drained yet
  EXPECT_EQ(sim.stock(1).nr_bytes, 4032u);
  EXPECT_EQ(sim.cg("/a").usage_pages, 64);
  // FLUSHING is set: a second drain_all does not queue the work again.
  ASSERT_EQ(sim.drain_all("/", 0), Errno::ok);
  EXPECT_EQ(sim.snap().pending_work, 1u);

  sim.quiesce();
  EXPECT_EQ(sim.snap().pending_work, 0u);
  EXPECT_FALSE(sim.stock(1).flushing);
  EXPECT_FALSE(sim.page_stock(1));
  EXPECT_FALSE(sim.stock(1).cached_objcg);
  EXPECT_EQ(sim.cg("/a").usage_pages, 1);
  EXPECT_EQ(sim.objcg_of("/a").nr_charged_bytes, 4032u);
  EXPECT_EQ(sim.objcg_of("/a").refs, 2);
  EXPECT_EQ(sim.drain_all("/nope", 0), Errno::enoent);
}

TEST(ReferenceDeferred, DrainAllDrainsTheLocalCpuAtOnce) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  sim.slab("t", "o1", 56);
  ASSERT_EQ(sim.drain_all("/a", 0), Errno::ok);
  EXPECT_EQ(sim.snap().pending_work, 0u);
  EXPECT_FALSE(sim.stock(0).flushing);
  EXPECT_FALSE(sim.page_stock(0));
  EXPECT_EQ(sim.cg("/a").usage_pages, 1);
}

TEST(ReferenceDeferred, DrainAllSkipsStocksOutsideTheSubtree) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.mkdir("/b");
  sim.spawn("t", "/b", 1);
  sim.slab("t", "o1", 56);
  ASSERT_EQ(sim.drain_all("/a", 0), Errno::ok);
  EXPECT_EQ(sim.snap().pending_work, 0u);
  EXPECT_FALSE(sim.stock(1).flushing);
  EXPECT_EQ(sim.page_stock(1)->nr_pages, 63u);
}

// consume 1 + 32 + 16 + 8 + 4 + 2 + 1 pages: the first batch's 63 stocked
// pages are used up and the stock caches the memcg with nr_pages == 0.
void empty_the_page_stock(Sim& sim, const std::string& task) {
  sim.page(task, "p0", 0);
  std::uint32_t order = 5;
  for (const char* name : {"p1", "p2", "p3", "p4", "p5", "p6"}) sim.page(task, name, order--);
}

TEST(ReferenceDeferred, AnEmptyPageStockIsNotFlushedAndPinsTheMemcg) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 1);
  empty_the_page_stock(sim, "t");
  ASSERT_TRUE(sim.page_stock(1));
  ASSERT_EQ(sim.page_stock(1)->nr_pages, 0u);
  ASSERT_EQ(sim.cg("/a").usage_pages, 64);
  ASSERT_FALSE(sim.stock(1).cached_objcg);  // kmem pages never use the byte stock
  ASSERT_EQ(sim.drain_all("/a", 0), Errno::ok);
  EXPECT_EQ(sim.snap().pending_work, 0u);
  EXPECT_FALSE(sim.stock(1).flushing);
  EXPECT_TRUE(sim.page_stock(1));

  // Its css reference then keeps the removed memcg dying after quiesce.
  sim.exit("t");
  sim.rmdir("/a");
  sim.quiesce();
  EXPECT_EQ(sim.cg("/a").state, CgroupState::dying);
  EXPECT_TRUE(sim.cg("/a").offlined);
  EXPECT_EQ(sim.cg("/a").css_refs, 1);
  EXPECT_EQ(sim.snap().pending_work, 0u);
  // Draining that CPU drops the last reference.
  sim.drain(1);
  EXPECT_EQ(sim.snap().pending_work, 1u);
  sim.quiesce();
  EXPECT_EQ(sim.cg("/a").state, CgroupState::freed);
}

// v6.6 as released: memcg_hotplug_cpu_dead drains only the page stock (the
// known bug hotplug_obj_stock_leak, fixed by 9f01b4954490).
TEST(ReferenceDeferred, CpuOfflineDrainsOnlyThePageStockInV66) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 1);
  sim.slab("t", "o1", 128);
  ASSERT_EQ(sim.cpu_offline(1), Errno::ok);
  EXPECT_FALSE(sim.stock(1).online);
  EXPECT_FALSE(sim.page_stock(1));  // drain_stock: 63 pages uncharged
  EXPECT_EQ(sim.cg("/a").usage_pages, 1);
  ASSERT_TRUE(sim.stock(1).cached_objcg);  // the obj stock is left as it was
  EXPECT_EQ(*sim.stock(1).cached_objcg, sim.objcg_of("/a").id);
  EXPECT_EQ(sim.stock(1).nr_bytes, 3960u);
  EXPECT_EQ(sim.objcg_of("/a").nr_charged_bytes, 0u);
  EXPECT_EQ(sim.objcg_of("/a").refs, 3);  // initial + o1 + the dead CPU's stock
  EXPECT_EQ(sim.cg("/a").css_refs, 3);    // base + ID + task
  EXPECT_EQ(sim.task_snap("t").cpu, 0u);  // moved to an online CPU
  EXPECT_EQ(sim.cpu_offline(1), Errno::einval);
  EXPECT_EQ(sim.cpu_offline(0), Errno::ebusy);  // the last online CPU
}

TEST(ReferenceDeferred, CpuOfflineDrainsBothStocksWithTheFix) {
  Sim sim(2, 4096, spec::Profile::v6_6_hotplug_fix);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 1);
  sim.slab("t", "o1", 128);
  ASSERT_EQ(sim.cpu_offline(1), Errno::ok);
  EXPECT_FALSE(sim.stock(1).online);
  EXPECT_FALSE(sim.page_stock(1));
  EXPECT_FALSE(sim.stock(1).cached_objcg);
  EXPECT_EQ(sim.stock(1).nr_bytes, 0u);
  EXPECT_EQ(sim.cg("/a").usage_pages, 1);
  EXPECT_EQ(sim.objcg_of("/a").nr_charged_bytes, 3960u);
  EXPECT_EQ(sim.objcg_of("/a").refs, 2);  // initial + o1
  EXPECT_EQ(sim.cg("/a").css_refs, 3);    // base + ID + task
  EXPECT_EQ(sim.task_snap("t").cpu, 0u);  // moved to an online CPU
  EXPECT_FALSE(sim.page_stock(0));        // no whole page to move
}

TEST(ReferenceDeferred, CpuOfflineMovesWholeStockedPagesToTheControlCpu) {
  Sim sim(3, 4096, spec::Profile::v6_6_hotplug_fix);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 2);
  sim.slab("t", "o1", 84);    // 4004 bytes stocked on CPU 2
  sim.slab("t", "o2", 5000);  // 2 more pages; the byte stock grows to 7188
  ASSERT_EQ(sim.stock(2).nr_bytes, 7188u);
  ASSERT_EQ(sim.page_stock(2)->nr_pages, 61u);
  ASSERT_EQ(sim.cpu_offline(2), Errno::ok);
  // memcg_hotplug_cpu_dead runs on the control CPU (0 here): drain_obj_stock's
  // __refill_stock puts the whole page into CPU 0's page stock; the
  // remainder goes to nr_charged_bytes; drain_stock uncharges CPU 2's 61 pages.
  ASSERT_TRUE(sim.page_stock(0));
  EXPECT_EQ(sim.page_stock(0)->memcg, sim.id("/a"));
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 1u);
  EXPECT_EQ(sim.objcg_of("/a").nr_charged_bytes, 7188u - 4096u);
  EXPECT_EQ(sim.objcg_of("/a").charged_pages, 2);
  EXPECT_EQ(sim.cg("/a").usage_pages, 3);
  EXPECT_EQ(sim.cg("/a").css_refs, 4);  // base + ID + task + CPU 0's stock
  EXPECT_FALSE(sim.page_stock(2));
  EXPECT_FALSE(sim.page_stock(1));
}

// A drain work queued for a CPU that then went offline runs on another CPU
// (the workqueue unbinds the dead CPU's workers) and drain_local_stock
// drains that CPU's stock (this_cpu_ptr), not the dead one's.
TEST(ReferenceDeferred, DrainWorkQueuedForACpuThatWentOffline) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 1);
  sim.slab("t", "o1", 128);  // CPU 1: 63 pages, 3960 bytes; usage 64
  sim.drain_all("/a", 0);    // CPU 1's drain work queued
  ASSERT_TRUE(sim.stock(1).flushing);
  sim.spawn("u", "/a", 0);
  sim.slab("u", "o2", 128);  // CPU 0: 63 pages, 3960 bytes; usage 128
  ASSERT_EQ(sim.cg("/a").usage_pages, 128);
  ASSERT_EQ(sim.cpu_offline(1), Errno::ok);  // only CPU 1's page stock goes: 65
  EXPECT_TRUE(sim.stock(1).flushing);
  EXPECT_EQ(sim.cg("/a").usage_pages, 65);
  EXPECT_EQ(sim.snap().pending_work, 1u);
  sim.quiesce();  // the work runs on CPU 0 and drains CPU 0's stock
  EXPECT_FALSE(sim.page_stock(0));
  EXPECT_FALSE(sim.stock(0).cached_objcg);
  EXPECT_FALSE(sim.stock(0).flushing);
  EXPECT_EQ(sim.cg("/a").usage_pages, 2);
  EXPECT_EQ(sim.objcg_of("/a").nr_charged_bytes, 3960u);
  // The dead CPU keeps its FLUSHING bit and its obj stock.
  EXPECT_TRUE(sim.stock(1).flushing);
  EXPECT_EQ(sim.stock(1).nr_bytes, 3960u);
  EXPECT_EQ(sim.objcg_of("/a").refs, 4);  // initial + o1 + o2 + CPU 1's stock
  EXPECT_TRUE(sim.snap().events.empty());
}

TEST(ReferenceDeferred, OfflineQueuedOnACpuThatWentOfflineRunsElsewhere) {
  Sim sim(3);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  sim.slab("t", "o1", 128);
  sim.free("o1", 2);
  sim.exit("t");
  sim.drain(0);
  sim.drain(2);
  ASSERT_EQ(sim.objcg_of("/a").nr_charged_bytes, 4096u);
  ASSERT_EQ(sim.rmdir("/a", 1), Errno::ok);  // offline queued for CPU 1
  ASSERT_EQ(sim.cpu_offline(1), Errno::ok);
  sim.quiesce();
  // The offline, and with it the RCU callback that releases the objcg, ran on
  // the lowest online CPU: the released page is stocked there, not on CPU 1.
  EXPECT_EQ(sim.objcg_of("/a").state, spec::ObjcgState::released);
  EXPECT_EQ(sim.objcg_of("/a").nr_charged_bytes, 4096u);
  EXPECT_FALSE(sim.page_stock(1));
  ASSERT_TRUE(sim.page_stock(0));
  EXPECT_EQ(sim.page_stock(0)->memcg, 0u);
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 1u);
  EXPECT_EQ(sim.cg("/a").state, CgroupState::freed);
}

TEST(ReferenceDeferred, CpuOfflineMovesAFullBytePageBeforeTheOffline) {
  Sim sim(2, 4096, spec::Profile::v6_6_hotplug_fix);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 1);
  sim.slab("t", "o1", 128);
  sim.free("o1", 1);  // CPU 1's byte stock: exactly 4096
  sim.exit("t");
  ASSERT_EQ(sim.cpu_offline(1), Errno::ok);
  // That page went to CPU 0's page stock, for /a.
  ASSERT_TRUE(sim.page_stock(0));
  EXPECT_EQ(sim.page_stock(0)->memcg, sim.id("/a"));
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 1u);
  EXPECT_EQ(sim.objcg_of("/a").nr_charged_bytes, 0u);
  sim.rmdir("/a");
  sim.quiesce();
  // The offline's drain_all_stock(/a) drained CPU 0: nothing left anywhere.
  EXPECT_FALSE(sim.page_stock(0));
  EXPECT_EQ(sim.cg("/a").usage_pages, 0);
  EXPECT_EQ(sim.root().usage_pages, 0);
  EXPECT_EQ(sim.objcg_of("/a").state, spec::ObjcgState::released);
  EXPECT_EQ(sim.objcg_of("/a").nr_charged_bytes, 0u);
  EXPECT_EQ(sim.cg("/a").state, CgroupState::freed);
}

TEST(ReferenceDeferred, QuiesceRunsWorkQueuedByWork) {
  Sim sim(1);
  sim.mkdir("/p");
  sim.mkdir("/p/c");
  sim.rmdir("/p/c");
  sim.rmdir("/p");
  ASSERT_EQ(sim.snap().pending_work, 2u);  // the two offlines
  sim.quiesce();
  // offline -> objcg switch, css_free(c) -> css_put(p) -> css_free(p), releases.
  EXPECT_EQ(sim.snap().pending_work, 0u);
  EXPECT_EQ(sim.cg("/p").state, CgroupState::freed);
  EXPECT_EQ(sim.cg("/p/c").state, CgroupState::freed);
  EXPECT_EQ(sim.objcg_of("/p").state, spec::ObjcgState::released);
  EXPECT_EQ(sim.objcg_of("/p/c").state, spec::ObjcgState::released);
}

}  // namespace
}  // namespace mv::reference::testing
