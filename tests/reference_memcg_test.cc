// memcg life cycle, tasks and limits (reference/memcg.cc): mm/memcontrol.c and
// kernel/cgroup/cgroup.c, v6.6, as docs/MODEL-v6.6.md reduces them.
#include <gtest/gtest.h>

#include "reference/kernel_state.h"
#include "tests/reference_harness.h"

namespace mv::reference::testing {
namespace {

using spec::CgroupState;
using spec::ObjcgState;

TEST(ReferenceMemcg, MkdirTakesBaseIdAndParentReferences) {
  Sim sim;
  ASSERT_EQ(sim.mkdir("/p"), Errno::ok);
  EXPECT_EQ(sim.cg("/p").css_refs, 2);
  EXPECT_EQ(sim.cg("/p").objcg, spec::ObjcgId{1});
  EXPECT_EQ(sim.objcg_of("/p").refs, 1);
  EXPECT_EQ(sim.objcg_of("/p").state, ObjcgState::active);
  EXPECT_EQ(sim.cg("/p").max_pages, std::nullopt);
  ASSERT_EQ(sim.mkdir("/p/c"), Errno::ok);
  EXPECT_EQ(sim.cg("/p").css_refs, 3);
  EXPECT_EQ(sim.cg("/p/c").parent, sim.id("/p"));
  EXPECT_EQ(sim.root().css_refs, 0);  // CSS_NO_REF
  EXPECT_FALSE(sim.root().objcg);
}

TEST(ReferenceMemcg, MkdirAndRmdirRefusals) {
  Sim sim;
  EXPECT_EQ(sim.mkdir("/"), Errno::eexist);
  EXPECT_EQ(sim.mkdir("/x/y"), Errno::enoent);
  ASSERT_EQ(sim.mkdir("/p"), Errno::ok);
  EXPECT_EQ(sim.mkdir("/p"), Errno::eexist);
  ASSERT_EQ(sim.mkdir("/p/c"), Errno::ok);
  EXPECT_EQ(sim.rmdir("/"), Errno::ebusy);
  EXPECT_EQ(sim.rmdir("/nope"), Errno::enoent);
  EXPECT_EQ(sim.rmdir("/p"), Errno::ebusy);  // online child
  ASSERT_EQ(sim.rmdir("/p/c"), Errno::ok);
  EXPECT_EQ(sim.rmdir("/p/c"), Errno::enoent);  // dying: no longer online
  EXPECT_EQ(sim.mkdir("/p/c/d"), Errno::enoent);
  ASSERT_EQ(sim.rmdir("/p"), Errno::ok);  // a dying child does not block
  EXPECT_EQ(sim.snap().pending_work, 2u);  // two offlines queued
  EXPECT_EQ(sim.snap().cgroups.size(), 3u);
}

TEST(ReferenceMemcg, RecreatedPathIsANewMemcg) {
  Sim sim;
  sim.mkdir("/a");
  sim.rmdir("/a");
  ASSERT_EQ(sim.mkdir("/a"), Errno::ok);  // the dying one does not block
  ASSERT_EQ(sim.snap().cgroups.size(), 3u);
  EXPECT_EQ(sim.snap().cgroups[1].state, CgroupState::dying);
  EXPECT_EQ(sim.snap().cgroups[2].state, CgroupState::online);
  EXPECT_EQ(sim.snap().cgroups[2].path, sim.snap().cgroups[1].path);
  EXPECT_EQ(sim.id("/a"), 2u);
  EXPECT_EQ(sim.cg("/a").objcg, spec::ObjcgId{2});
}

// rmdir with live objects, following the objects until the end.
TEST(ReferenceMemcg, RmdirWithLiveObjectsReparentsAndFrees) {
  Sim sim(2);
  sim.mkdir("/p");
  sim.mkdir("/p/c");
  sim.spawn("t", "/p/c", 0);
  sim.slab("t", "o1", 128);  // 1 page via a 64-page batch; 3960 bytes stocked
  sim.page("t", "o2", 0);    // from the page stock: 62 left
  ASSERT_EQ(sim.cg("/p/c").usage_pages, 64);
  ASSERT_EQ(sim.objcg_of("/p/c").refs, 4);

  EXPECT_EQ(sim.rmdir("/p/c"), Errno::ebusy);  // a task is in it
  ASSERT_EQ(sim.migrate("t", "/p"), Errno::ok);
  ASSERT_EQ(sim.rmdir("/p/c"), Errno::ok);
  EXPECT_EQ(sim.cg("/p/c").state, CgroupState::dying);
  EXPECT_FALSE(sim.cg("/p/c").offlined);
  EXPECT_EQ(sim.cg("/p/c").objcg, sim.objcg_of("/p/c").id);
  // ID + page stock + kill_css's and the confirm reference (base dropped).
  EXPECT_EQ(sim.cg("/p/c").css_refs, 4);
  EXPECT_EQ(sim.snap().pending_work, 1u);

  sim.quiesce();
  const auto c = sim.id("/p/c");
  EXPECT_TRUE(sim.cg("/p/c").offlined);
  EXPECT_FALSE(sim.cg("/p/c").objcg);  // memcg->objcg cleared
  EXPECT_EQ(sim.objcg_of("/p/c").memcg, sim.id("/p"));
  EXPECT_EQ(sim.objcg_of("/p/c").state, ObjcgState::reparented);
  EXPECT_EQ(sim.objcg_of("/p/c").refs, 2);  // o1 and o2: initial killed, stock drained
  EXPECT_EQ(sim.objcg_of("/p/c").nr_charged_bytes, 3960u);
  // drain_all_stock(/p/c) drained CPU 0 (62 pages): the objects' 2 pages remain.
  EXPECT_EQ(sim.cg("/p/c").usage_pages, 2);
  EXPECT_EQ(sim.cg("/p").usage_pages, 2);
  // In v6.6 live objects do not pin the memcg: nothing else held it.
  EXPECT_EQ(sim.cg("/p/c").state, CgroupState::freed);
  EXPECT_EQ(sim.cg("/p").css_refs, 3);  // base + ID + task; the child's ref is gone
  for (const auto& snap_cg : sim.snap().cgroups) EXPECT_NE(snap_cg.objcg, sim.objcg_of("/p/c").id);

  // Freeing the objects now goes through the parent.
  sim.free("o1", 0);  // 3960 + 136 = 4096 in CPU 0's byte stock
  EXPECT_EQ(sim.stock(0).nr_bytes, 4096u);
  sim.free("o2", 0);  // obj_cgroup_uncharge_pages -> refill_stock(/p, 1)
  ASSERT_TRUE(sim.page_stock(0));
  EXPECT_EQ(sim.page_stock(0)->memcg, sim.id("/p"));
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 1u);
  EXPECT_EQ(sim.objcg_of("/p/c").refs, 1);  // CPU 0's byte stock
  sim.drain(0);
  EXPECT_EQ(sim.objcg_of("/p/c").state, ObjcgState::released);
  EXPECT_EQ(sim.objcg_of("/p/c").nr_charged_bytes, 0u);
  EXPECT_EQ(sim.objcg_of("/p/c").charged_pages, 0);
  EXPECT_EQ(sim.cg("/p").usage_pages, 0);
  EXPECT_EQ(sim.root().usage_pages, 0);
  EXPECT_EQ(sim.snap().cgroup(c).usage_pages, 2);  // the dead counter keeps its pages
  sim.quiesce();
  EXPECT_EQ(sim.snap().pending_work, 0u);
  EXPECT_TRUE(sim.snap().events.empty());
}

TEST(ReferenceMemcg, NestedRemovalOfflinesChildBeforeParent) {
  Sim sim(1);
  sim.mkdir("/p");
  sim.mkdir("/p/c");
  sim.spawn("t", "/p/c", 0);
  sim.slab("t", "o1", 128);
  sim.exit("t");
  ASSERT_EQ(sim.rmdir("/p/c"), Errno::ok);
  ASSERT_EQ(sim.rmdir("/p"), Errno::ok);
  sim.quiesce();
  // The child's offline moved its objcg to /p; /p's offline moved /p's own
  // objcg and everything on its objcg_list to the root.
  EXPECT_EQ(sim.objcg_of("/p/c").memcg, 0u);
  EXPECT_EQ(sim.objcg_of("/p/c").state, ObjcgState::reparented);
  EXPECT_EQ(sim.objcg_of("/p/c").refs, 1);  // o1
  EXPECT_EQ(sim.objcg_of("/p").state, ObjcgState::released);  // nothing held it
  EXPECT_EQ(sim.cg("/p/c").state, CgroupState::freed);
  EXPECT_EQ(sim.cg("/p").state, CgroupState::freed);
  EXPECT_EQ(sim.root().usage_pages, 1);
  EXPECT_EQ(sim.snap().pending_work, 0u);
  // The object, freed later, ends up charged to the root.
  sim.free("o1", 0);
  sim.drain(0);
  EXPECT_EQ(sim.objcg_of("/p/c").state, ObjcgState::released);
  EXPECT_EQ(sim.root().usage_pages, 0);
  EXPECT_TRUE(sim.snap().events.empty());
}

TEST(ReferenceMemcg, TasksHoldCssReferences) {
  Sim sim;
  sim.mkdir("/a");
  sim.mkdir("/b");
  EXPECT_EQ(sim.spawn("t", "/nope", 0), Errno::enoent);
  ASSERT_EQ(sim.spawn("t", "/a", 2), Errno::ok);
  EXPECT_EQ(sim.cg("/a").css_refs, 3);
  EXPECT_EQ(sim.cg("/a").nr_tasks, 1u);
  ASSERT_EQ(sim.migrate("t", "/b"), Errno::ok);
  EXPECT_EQ(sim.cg("/a").css_refs, 2);
  EXPECT_EQ(sim.cg("/b").css_refs, 3);
  EXPECT_EQ(sim.cg("/b").nr_tasks, 1u);
  EXPECT_EQ(sim.task_snap("t").memcg, sim.id("/b"));
  sim.rmdir("/a");
  EXPECT_EQ(sim.migrate("t", "/a"), Errno::enoent);  // dying
  ASSERT_EQ(sim.run_on("t", 3), Errno::ok);
  EXPECT_EQ(sim.task_snap("t").cpu, 3u);
  ASSERT_EQ(sim.exit("t"), Errno::ok);
  EXPECT_EQ(sim.cg("/b").css_refs, 2);
  EXPECT_TRUE(sim.snap().tasks.empty());
}

TEST(ReferenceMemcg, SetMaxDrainsTheLocalStockToFit) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  sim.slab("t", "o", 128);
  ASSERT_EQ(sim.cg("/a").usage_pages, 64);
  // 64 > 10: drain_all_stock(/a) from CPU 0 drains CPU 0 now: 1 page left.
  ASSERT_EQ(sim.set_max("/a", 10, 0), Errno::ok);
  EXPECT_EQ(sim.cg("/a").max_pages, std::optional<std::uint64_t>(10));
  EXPECT_EQ(sim.cg("/a").usage_pages, 1);
  EXPECT_FALSE(sim.page_stock(0));
  EXPECT_EQ(sim.set_max("/", 10), Errno::einval);
  EXPECT_EQ(sim.set_max("/nope", 10), Errno::enoent);
}

TEST(ReferenceMemcg, SetMaxIsBusyWhileTheRemoteDrainIsOnlyQueued) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 1);
  sim.slab("t", "o", 128);
  // CPU 1's stock is drained by a work item, not now: still 64 > 10.
  ASSERT_EQ(sim.set_max("/a", 10, 0), Errno::ebusy);
  EXPECT_EQ(sim.cg("/a").max_pages, std::nullopt);
  EXPECT_EQ(sim.cg("/a").usage_pages, 64);
  EXPECT_TRUE(sim.stock(1).flushing);
  EXPECT_EQ(sim.snap().pending_work, 1u);
  sim.quiesce();
  EXPECT_EQ(sim.cg("/a").usage_pages, 1);
  ASSERT_EQ(sim.set_max("/a", 10, 0), Errno::ok);
  EXPECT_EQ(sim.cg("/a").max_pages, std::optional<std::uint64_t>(10));
}

TEST(ReferenceMemcg, CssPutBelowZeroIsRecordedAndClamped) {
  spec::PathTable paths;
  spec::Config config;
  Kernel k = boot_kernel(config, paths);
  ASSERT_EQ(cgroup_mkdir(k, *paths.intern("/a")), Errno::ok);
  css_put(k, 1);
  css_put(k, 1);
  EXPECT_TRUE(k.events.empty());
  css_put(k, 1);
  ASSERT_EQ(k.events.size(), 1u);
  EXPECT_EQ(k.events[0].kind, spec::EventKind::css_ref_underflow);
  EXPECT_EQ(k.events[0].subject, 1u);
  EXPECT_EQ(k.memcg(1).css_refs, 0);
  // The root's css is CSS_NO_REF: never counted, never underflows.
  css_put(k, 0);
  EXPECT_EQ(k.events.size(), 1u);
}

TEST(ReferenceMemcg, TouchingAFreedMemcgIsAUseAfterFree) {
  spec::PathTable paths;
  spec::Config config;
  Kernel k = boot_kernel(config, paths);
  ASSERT_EQ(cgroup_mkdir(k, *paths.intern("/a")), Errno::ok);
  k.memcg(1).state = CgroupState::freed;
  css_get(k, 1);
  refill_stock(k, 0, 1, 3);  // same memcg cached afterwards: one touch via css_get
  ASSERT_GE(k.events.size(), 2u);
  EXPECT_EQ(k.events[0].kind, spec::EventKind::memcg_use_after_free);
  EXPECT_EQ(k.events[0].subject, 1u);
  EXPECT_EQ(k.stock(0).page.slots[0].nr_pages, 3u);  // and the model carried on
}

TEST(ReferenceMemcg, ChargeSucceedsAfterDrainingASiblingsStock) {
  Sim sim(2);
  sim.mkdir("/p");
  sim.mkdir("/p/a");
  sim.mkdir("/p/b");
  ASSERT_EQ(sim.set_max("/p", 64), Errno::ok);
  sim.spawn("ta", "/p/a", 0);
  sim.spawn("tb", "/p/b", 0);
  sim.page("ta", "pa", 0);  // /p at its max: 1 page used, 63 stocked for /p/a
  ASSERT_EQ(sim.cg("/p").usage_pages, 64);
  // /p/b: the batch and the single page both fail at /p (mem_over_limit);
  // drain_all_stock(/p) drains CPU 0's stock of /p/a; the retry fits.
  ASSERT_EQ(sim.page("tb", "pb", 0), Errno::ok);
  EXPECT_EQ(sim.cg("/p").failcnt, 2u);
  EXPECT_EQ(sim.cg("/p").usage_pages, 2);
  EXPECT_EQ(sim.cg("/p/a").usage_pages, 1);
  EXPECT_EQ(sim.cg("/p/b").usage_pages, 1);
  EXPECT_FALSE(sim.page_stock(0));  // batch == nr_pages after the fallback: no restock
}

TEST(ReferenceMemcg, OfflineReparentsBeforeDrainingSoByteStocksStayCached) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.mkdir("/b");
  sim.spawn("ta", "/a", 1);
  sim.spawn("tb", "/b", 1);
  sim.slab("ta", "o1", 128);  // CPU 1: page stock /a, byte stock /a's objcg
  sim.page("tb", "p", 0);     // CPU 1's page stock now caches /b
  ASSERT_EQ(sim.stock(1).cached_objcg, sim.objcg_of("/a").id);
  sim.exit("ta");
  sim.rmdir("/a");
  sim.quiesce();
  // memcg_offline_kmem ran first: the objcg points at / when drain_all_stock(/a)
  // looks, so CPU 1's byte stock is not flushed (obj_stock_flush_required).
  EXPECT_EQ(sim.stock(1).cached_objcg, sim.objcg_of("/a").id);
  EXPECT_EQ(sim.stock(1).nr_bytes, 3960u);
  EXPECT_FALSE(sim.stock(1).flushing);
  EXPECT_EQ(sim.objcg_of("/a").memcg, 0u);
  EXPECT_EQ(sim.objcg_of("/a").refs, 2);  // o1 + CPU 1's byte stock
  EXPECT_EQ(sim.cg("/a").state, CgroupState::freed);  // the objcg does not pin it
}

}  // namespace
}  // namespace mv::reference::testing
