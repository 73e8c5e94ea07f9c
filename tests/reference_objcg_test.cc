// obj_cgroup references, reparenting and release (reference/objcg.cc):
// mm/memcontrol.c v6.6 and lib/percpu-refcount.c.
#include <gtest/gtest.h>

#include "reference/kernel_state.h"
#include "tests/reference_harness.h"

namespace mv::reference::testing {
namespace {

using spec::CgroupState;
using spec::ObjcgState;

// The task's brief: allocate on CPU 0, free on CPU 1, rmdir, drain both,
// quiesce. Each CPU flushes a part of the page into nr_charged_bytes; together
// they make exactly PAGE_SIZE, which obj_cgroup_release uncharges.
TEST(ReferenceObjcg, ReleaseAfterTwoCpuFlushesSeesExactlyPageSize) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  sim.slab("t", "o1", 128);  // CPU 0: 4096 - 136 = 3960 bytes stocked
  ASSERT_EQ(sim.free("o1", 1), Errno::ok);  // CPU 1 caches the objcg: 136 bytes
  ASSERT_EQ(sim.stock(1).nr_bytes, 136u);
  ASSERT_EQ(sim.objcg_of("/a").refs, 3);  // initial + two stocks
  sim.migrate("t", "/");
  ASSERT_EQ(sim.rmdir("/a"), Errno::ok);
  EXPECT_EQ(sim.cg("/a").state, CgroupState::dying);

  sim.drain(0);
  EXPECT_EQ(sim.objcg_of("/a").nr_charged_bytes, 3960u);
  EXPECT_EQ(sim.objcg_of("/a").refs, 2);
  EXPECT_EQ(sim.cg("/a").usage_pages, 1);  // CPU 0's 63 stocked pages went back
  sim.drain(1);
  EXPECT_EQ(sim.objcg_of("/a").nr_charged_bytes, 4096u);
  EXPECT_EQ(sim.objcg_of("/a").refs, 1);  // only the initial ref is left

  ASSERT_EQ(sim.quiesce(), Errno::ok);
  const auto& objcg = sim.objcg_of("/a");
  EXPECT_EQ(objcg.state, ObjcgState::released);
  EXPECT_EQ(objcg.nr_charged_bytes, 4096u);  // what obj_cgroup_release saw
  EXPECT_EQ(objcg.refs, 0);
  EXPECT_EQ(objcg.memcg, 0u);  // reparented to the root before the release
  EXPECT_EQ(objcg.charged_pages, 0);
  EXPECT_EQ(sim.cg("/a").state, CgroupState::freed);
  // The page was charged to /a's counter before reparenting; it is uncharged
  // through the root (obj_cgroup_uncharge_pages -> refill_stock on the CPU
  // that ran the release, the rmdir's CPU 0): /a's own counter keeps it.
  EXPECT_EQ(sim.cg("/a").usage_pages, 1);
  EXPECT_EQ(sim.root().usage_pages, 1);
  ASSERT_TRUE(sim.page_stock(0));
  EXPECT_EQ(sim.page_stock(0)->memcg, 0u);
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 1u);
  EXPECT_EQ(sim.snap().pending_work, 0u);
  EXPECT_TRUE(sim.snap().events.empty());
  sim.drain(0);
  EXPECT_EQ(sim.root().usage_pages, 0);
}

TEST(ReferenceObjcg, ReleaseRunsOnTheCpuThatQueuedTheKill) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  sim.slab("t", "o1", 128);
  sim.free("o1", 1);
  sim.migrate("t", "/");
  sim.drain(0);
  sim.drain(1);
  ASSERT_EQ(sim.rmdir("/a", 1), Errno::ok);  // offline and RCU callback on CPU 1
  sim.quiesce();
  EXPECT_EQ(sim.objcg_of("/a").state, ObjcgState::released);
  EXPECT_FALSE(sim.page_stock(0));
  ASSERT_TRUE(sim.page_stock(1));
  EXPECT_EQ(sim.page_stock(1)->memcg, 0u);
  EXPECT_EQ(sim.page_stock(1)->nr_pages, 1u);
}

// The sequence of obj_cgroup_release's comment (mm/memcontrol.c): a 92-byte
// object charged on CPU 1, the stock flushed by another memcg's allocation,
// the object freed on CPU 0 (which caches the objcg), CPU 0 flushed.
TEST(ReferenceObjcg, KernelCommentSequenceEndsWithPageSizeChargedBytes) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.mkdir("/b");
  sim.spawn("ta", "/a", 0);
  sim.spawn("tb", "/b", 1);
  sim.slab("ta", "o0", 84);
  sim.free("o0", 0);  // CPU 0 caches /a's objcg with exactly 4096 bytes
  ASSERT_EQ(sim.stock(0).nr_bytes, 4096u);
  sim.run_on("ta", 1);
  sim.slab("ta", "o1", 84);  // CPU 1 charges a page, keeps 4004
  sim.slab("tb", "o2", 84);  // /b replaces it: /a's nr_charged_bytes = 4004
  ASSERT_EQ(sim.objcg_of("/a").nr_charged_bytes, 4004u);
  sim.free("o1", 0);  // 4096 + 92 > 4096: one page out, 92 stay
  ASSERT_EQ(sim.stock(0).nr_bytes, 92u);
  sim.drain(0);  // 4004 + 92
  ASSERT_EQ(sim.objcg_of("/a").nr_charged_bytes, 4096u);
  sim.migrate("ta", "/");
  ASSERT_EQ(sim.rmdir("/a"), Errno::ok);
  sim.quiesce();

  const auto& a = sim.objcg_of("/a");
  EXPECT_EQ(a.state, ObjcgState::released);
  EXPECT_EQ(a.nr_charged_bytes, 4096u);
  EXPECT_EQ(a.refs, 0);
  EXPECT_EQ(a.charged_pages, 0);
  EXPECT_EQ(sim.objcg_of("/b").refs, 3);
  EXPECT_EQ(sim.cg("/a").state, CgroupState::freed);
  EXPECT_EQ(sim.cg("/a").usage_pages, 1);
  EXPECT_EQ(sim.cg("/b").usage_pages, 64);
  EXPECT_EQ(sim.root().usage_pages, 65);
  EXPECT_EQ(sim.page_stock(0)->memcg, 0u);
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 1u);
  EXPECT_EQ(sim.page_stock(1)->memcg, sim.id("/b"));
  EXPECT_EQ(sim.page_stock(1)->nr_pages, 63u);
  EXPECT_EQ(sim.stock(1).cached_objcg, sim.objcg_of("/b").id);
  EXPECT_EQ(sim.stock(1).nr_bytes, 4004u);
}

TEST(ReferenceObjcg, LastPutAfterTheAtomicSwitchReleasesOnThatCpu) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  sim.slab("t", "o1", 128);
  sim.exit("t");
  sim.rmdir("/a");
  sim.quiesce();
  // Offline: reparented and killed (initial ref gone); drain_all_stock(/a)
  // drained CPU 0 (its page stock cached /a): 3960 bytes to nr_charged_bytes.
  ASSERT_EQ(sim.objcg_of("/a").state, ObjcgState::reparented);
  ASSERT_EQ(sim.objcg_of("/a").refs, 1);  // the object
  ASSERT_EQ(sim.objcg_of("/a").nr_charged_bytes, 3960u);
  ASSERT_EQ(sim.cg("/a").state, CgroupState::freed);  // objects do not pin it

  sim.free("o1", 1);  // CPU 1: 3960 + 136 = 4096 stays in its stock
  EXPECT_EQ(sim.objcg_of("/a").refs, 1);  // the stock
  EXPECT_EQ(sim.stock(1).nr_bytes, 4096u);
  sim.drain(1);
  // drain_obj_stock: the page goes to CPU 1's page stock (root), drain_stock
  // uncharges it, the put releases the objcg with nr_charged_bytes 0.
  EXPECT_EQ(sim.objcg_of("/a").state, ObjcgState::released);
  EXPECT_EQ(sim.objcg_of("/a").nr_charged_bytes, 0u);
  EXPECT_EQ(sim.objcg_of("/a").charged_pages, 0);
  EXPECT_EQ(sim.root().usage_pages, 0);
  EXPECT_FALSE(sim.page_stock(1));
  EXPECT_EQ(sim.snap().pending_work, 1u);  // its kfree_rcu
  sim.quiesce();
  EXPECT_EQ(sim.snap().pending_work, 0u);
}

TEST(ReferenceObjcg, PercpuRefMechanics) {
  spec::PathTable paths;
  spec::Config config;
  Kernel k = boot_kernel(config, paths);
  ASSERT_EQ(cgroup_mkdir(k, *paths.intern("/a")), Errno::ok);
  const spec::ObjcgId id = 1;
  ASSERT_EQ(k.objcg(id).refs, 1);
  obj_cgroup_get(k, id);
  EXPECT_TRUE(obj_cgroup_tryget(k, id));
  EXPECT_EQ(k.objcg(id).refs, 3);
  obj_cgroup_put(k, 0, id);
  obj_cgroup_put(k, 0, id);
  // Killing takes the switch's confirm ref and drops the initial one: 1 left.
  percpu_ref_kill(k, 0, id);
  EXPECT_EQ(k.objcg(id).refs, 1);
  EXPECT_TRUE(k.objcg(id).switch_pending);
  EXPECT_EQ(k.objcg(id).state, ObjcgState::active);  // reparenting sets the state
  EXPECT_EQ(k.deferred.size(), 1u);
  // The RCU callback puts the confirm ref: 0, release, then kfree_rcu queued.
  quiesce(k);
  EXPECT_FALSE(k.objcg(id).switch_pending);
  EXPECT_EQ(k.objcg(id).state, ObjcgState::released);
  EXPECT_FALSE(obj_cgroup_tryget(k, id));
  EXPECT_TRUE(k.deferred.empty());
  // Misuse: a put on a released objcg is a use after free and an underflow.
  k.events.clear();
  obj_cgroup_put(k, 0, id);
  ASSERT_EQ(k.events.size(), 2u);
  EXPECT_EQ(k.events[0].kind, spec::EventKind::objcg_use_after_free);
  EXPECT_EQ(k.events[1].kind, spec::EventKind::objcg_ref_underflow);
  EXPECT_EQ(k.objcg(id).refs, 0);
}

TEST(ReferenceObjcg, GetObjCgroupFromCurrentSkipsTheRoot) {
  Sim sim(1);
  sim.mkdir("/a");
  sim.mkdir("/a/b");
  sim.spawn("tb", "/a/b", 0);
  sim.spawn("tr", "/", 0);
  sim.slab("tb", "ob", 16);
  sim.slab("tr", "or", 16);
  EXPECT_EQ(sim.object("ob").objcg, sim.objcg_of("/a/b").id);
  EXPECT_FALSE(sim.object("or").objcg);
  EXPECT_EQ(sim.objcg_of("/a").refs, 1);
}

}  // namespace
}  // namespace mv::reference::testing
