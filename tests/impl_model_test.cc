// The impl's Model adapter on hand-computed v6.6 scenarios (4 CPUs, 4K pages,
// batch 64). Each number is derived in the comment above its assertion.
#include <gtest/gtest.h>

#include "impl/kmem.h"
#include "impl/system.h"
#include "tests/impl_harness.h"

namespace mv::impl::testing {
namespace {

using spec::CgroupState;
using spec::ObjcgState;

// mkdir /a, a task of /a on CPU 0, one 128-byte slab object.
class FirstSlab : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sim.mkdir("/a"), Errno::ok);
    ASSERT_EQ(sim.spawn("t", "/a", 0), Errno::ok);
    ASSERT_EQ(sim.slab("t", "o", 128), Errno::ok);
  }
  Sim sim;
};

TEST_F(FirstSlab, ChargesABatchAndStocksTheRest) {
  // 128 + 8 = 136 bytes: byte stock miss, 1 page; try_charge_memcg charges the
  // batch of 64 to /a and /, keeps 63 in CPU 0's page stock; the byte stock
  // gets 4096 - 136 = 3960.
  EXPECT_EQ(sim.cg("/a").usage_pages, 64);
  EXPECT_EQ(sim.cg("/").usage_pages, 64);
  auto stock = sim.stock(0);
  ASSERT_EQ(stock.page_stock.size(), 1u);
  EXPECT_EQ(stock.page_stock[0].memcg, sim.cg("/a").id);
  EXPECT_EQ(stock.page_stock[0].nr_pages, 63u);
  EXPECT_EQ(stock.nr_bytes, 3960u);
  // objcg refs: initial + the object + CPU 0's byte stock.
  auto objcg = sim.objcg_of("/a");
  EXPECT_EQ(stock.cached_objcg, objcg.id);
  EXPECT_EQ(objcg.refs, 3);
  EXPECT_EQ(objcg.charged_pages, 1);
  // css refs of /a: base + ID + the task + CPU 0's page stock.
  EXPECT_EQ(sim.cg("/a").css_refs, 4);
  auto s = sim.snap();
  ASSERT_EQ(s.objects.size(), 1u);
  EXPECT_EQ(s.objects[0].charged_bytes, 136u);
  EXPECT_EQ(s.objects[0].objcg, objcg.id);
  EXPECT_EQ(s.pending_work, 0u);
  EXPECT_TRUE(s.events.empty());
}

TEST_F(FirstSlab, SecondObjectIsAByteStockHit) {
  ASSERT_EQ(sim.slab("t", "o2", 128), Errno::ok);
  EXPECT_EQ(sim.stock(0).nr_bytes, 3960u - 136u);
  EXPECT_EQ(sim.cg("/a").usage_pages, 64);
  EXPECT_EQ(sim.objcg_of("/a").refs, 4);
}

TEST_F(FirstSlab, FreeOnTheSameCpuRefillsToExactlyAPage) {
  // 3960 + 136 = 4096: not above PAGE_SIZE, so the page stays in the stock.
  ASSERT_EQ(sim.free("o", 0), Errno::ok);
  EXPECT_EQ(sim.stock(0).nr_bytes, 4096u);
  EXPECT_EQ(sim.objcg_of("/a").refs, 2);
  EXPECT_EQ(sim.cg("/a").usage_pages, 64);
  EXPECT_TRUE(sim.snap().objects.empty());
}

TEST_F(FirstSlab, FreeOnAnotherCpuCachesTheObjcgThere) {
  // CPU 1's stock takes over the objcg (a second stock ref) with 136 bytes.
  ASSERT_EQ(sim.free("o", 1), Errno::ok);
  EXPECT_EQ(sim.stock(1).cached_objcg, sim.objcg_of("/a").id);
  EXPECT_EQ(sim.stock(1).nr_bytes, 136u);
  EXPECT_EQ(sim.objcg_of("/a").refs, 3);  // initial + two stocks
}

TEST_F(FirstSlab, RmdirReparentsDrainsAndFrees) {
  ASSERT_EQ(sim.free("o", 0), Errno::ok);
  ASSERT_EQ(sim.exit("t"), Errno::ok);
  ASSERT_EQ(sim.rmdir("/a"), Errno::ok);
  // Killed: base ref gone; ID + page stock + kill_css's and the confirm
  // reference; the offline is queued.
  EXPECT_EQ(sim.cg("/a").state, CgroupState::dying);
  EXPECT_EQ(sim.cg("/a").css_refs, 4);
  EXPECT_EQ(sim.snap().pending_work, 1u);
  ASSERT_EQ(sim.quiesce(), Errno::ok);
  // Offline: the objcg now points at /; drain_all_stock(/a) drains CPU 0: the
  // byte stock's page goes through objcg->memcg = / into CPU 0's page stock,
  // which first drains /a's 63 pages (uncharging /a and /), and then the page
  // stock of / is drained too. /a keeps the one page that was charged to it
  // and given back to / after reparenting.
  auto a = sim.cg("/a");
  EXPECT_EQ(a.state, CgroupState::freed);
  EXPECT_TRUE(a.offlined);
  EXPECT_EQ(a.usage_pages, 1);
  EXPECT_EQ(a.watermark_pages, 64u);
  EXPECT_EQ(a.css_refs, 0);
  EXPECT_FALSE(a.objcg.has_value());
  EXPECT_EQ(sim.cg("/").usage_pages, 0);
  auto s = sim.snap();
  ASSERT_EQ(s.objcgs.size(), 1u);
  EXPECT_EQ(s.objcgs[0].state, ObjcgState::released);
  EXPECT_EQ(s.objcgs[0].memcg, 0u);
  EXPECT_EQ(s.objcgs[0].refs, 0);
  EXPECT_EQ(s.objcgs[0].charged_pages, 0);
  EXPECT_EQ(s.pending_work, 0u);
  EXPECT_TRUE(s.events.empty());
  for (const auto& st : s.stocks) {
    EXPECT_TRUE(st.page_stock.empty());
    EXPECT_FALSE(st.cached_objcg.has_value());
    EXPECT_FALSE(st.flushing);
  }
}

TEST(ImplModel, LimitFallsBackFromBatchToExactPages) {
  Sim sim;
  ASSERT_EQ(sim.mkdir("/a"), Errno::ok);
  ASSERT_EQ(sim.set_max("/a", 10), Errno::ok);
  ASSERT_EQ(sim.spawn("t", "/a", 0), Errno::ok);
  // The batch of 64 fails at /a (failcnt 1); the retry with exactly 1 page fits.
  ASSERT_EQ(sim.slab("t", "o", 128), Errno::ok);
  EXPECT_EQ(sim.cg("/a").usage_pages, 1);
  EXPECT_EQ(sim.cg("/a").failcnt, 1u);
  EXPECT_EQ(sim.cg("/").usage_pages, 1);
  EXPECT_TRUE(sim.stock(0).page_stock.empty());
  EXPECT_EQ(sim.cg("/a").max_pages, std::optional<std::uint64_t>(10));
}

TEST(ImplModel, OverTheLimitFailsUnlessNofail) {
  Sim sim;
  ASSERT_EQ(sim.mkdir("/a"), Errno::ok);
  ASSERT_EQ(sim.set_max("/a", 0), Errno::ok);
  ASSERT_EQ(sim.spawn("t", "/a", 0), Errno::ok);
  // batch 64 fails, 1 page fails, drain_all_stock, 1 page fails again, then
  // the 16 MAX_RECLAIM_RETRIES: ENOMEM with 19 failed attempts and nothing
  // charged; the pre-hook ref is put.
  EXPECT_EQ(sim.slab("t", "o", 128), Errno::enomem);
  EXPECT_EQ(sim.cg("/a").usage_pages, 0);
  EXPECT_EQ(sim.cg("/a").failcnt, 19u);
  EXPECT_EQ(sim.objcg_of("/a").refs, 1);
  EXPECT_TRUE(sim.snap().objects.empty());
  // __GFP_NOFAIL: the same attempts, then a forced charge of exactly 1 page.
  EXPECT_EQ(sim.slab("t", "o", 128, /*nofail=*/true), Errno::ok);
  EXPECT_EQ(sim.cg("/a").usage_pages, 1);
  EXPECT_EQ(sim.cg("/a").failcnt, 38u);
  EXPECT_EQ(sim.stock(0).nr_bytes, 3960u);
}

TEST(ImplModel, SetMaxBelowUsageDrainsThenRefuses) {
  Sim sim;
  ASSERT_EQ(sim.mkdir("/a"), Errno::ok);
  ASSERT_EQ(sim.spawn("t", "/a", 0), Errno::ok);
  ASSERT_EQ(sim.slab("t", "o", 128), Errno::ok);  // usage 64, 63 stocked
  // 64 > 5: drain_all_stock(/a) uncharges the 63 stocked pages and CPU 0's
  // byte stock (3960 bytes: no whole page, they go to nr_charged_bytes); 1 <= 5.
  EXPECT_EQ(sim.set_max("/a", 5), Errno::ok);
  EXPECT_EQ(sim.cg("/a").usage_pages, 1);
  EXPECT_EQ(sim.objcg_of("/a").nr_charged_bytes, 3960u);
  EXPECT_EQ(sim.set_max("/a", 0), Errno::ebusy);
  EXPECT_EQ(sim.cg("/a").max_pages, std::optional<std::uint64_t>(5));
}

TEST(ImplModel, PercpuChargesEveryCpuAndThePointers) {
  Sim sim;
  ASSERT_EQ(sim.mkdir("/a"), Errno::ok);
  ASSERT_EQ(sim.spawn("t", "/a", 2), Errno::ok);
  // 100 bytes on 4 CPUs: 400 + 100 / 4 * 8 = 600 bytes.
  ASSERT_EQ(sim.alloc("t", "p", spec::AllocKind::percpu, 100), Errno::ok);
  EXPECT_EQ(sim.snap().objects.at(0).charged_bytes, 600u);
  EXPECT_EQ(sim.stock(2).nr_bytes, 4096u - 600u);
}

TEST(ImplModel, KernelStackChargesFourPagesWithFourRefs) {
  Sim sim;
  ASSERT_EQ(sim.mkdir("/a"), Errno::ok);
  ASSERT_EQ(sim.spawn("t", "/a", 1), Errno::ok);
  ASSERT_EQ(sim.alloc("t", "s", spec::AllocKind::stack, 0), Errno::ok);
  // 16K / 4K = 4 order-0 charges: a batch of 64, then 3 page-stock hits.
  auto obj = sim.snap().objects.at(0);
  EXPECT_EQ(obj.charged_bytes, 16384u);
  EXPECT_EQ(obj.nr_kmem_pages, 4u);
  EXPECT_EQ(sim.objcg_of("/a").refs, 1 + 4);
  EXPECT_EQ(sim.stock(1).page_stock.at(0).nr_pages, 60u);
  ASSERT_EQ(sim.free("s", 1), Errno::ok);
  EXPECT_EQ(sim.objcg_of("/a").refs, 1);
  EXPECT_EQ(sim.stock(1).page_stock.at(0).nr_pages, 64u);
  EXPECT_EQ(sim.objcg_of("/a").charged_pages, 0);
}

TEST(ImplModel, RootTaskAllocationsAreNotCharged) {
  Sim sim;
  ASSERT_EQ(sim.spawn("t", "/", 0), Errno::ok);
  ASSERT_EQ(sim.slab("t", "o", 128), Errno::ok);
  auto obj = sim.snap().objects.at(0);
  EXPECT_EQ(obj.charged_bytes, 0u);
  EXPECT_FALSE(obj.objcg.has_value());
  EXPECT_EQ(sim.cg("/").usage_pages, 0);
}

TEST(ImplModel, RemoteDrainIsDeferredAndFlushingGuardsIt) {
  Sim sim;
  ASSERT_EQ(sim.mkdir("/a"), Errno::ok);
  ASSERT_EQ(sim.spawn("t", "/a", 1), Errno::ok);
  ASSERT_EQ(sim.slab("t", "o", 128), Errno::ok);
  ASSERT_EQ(sim.drain_all("/a", 0), Errno::ok);
  EXPECT_TRUE(sim.stock(1).flushing);
  EXPECT_EQ(sim.snap().pending_work, 1u);
  ASSERT_EQ(sim.drain_all("/a", 0), Errno::ok);  // FLUSHING set: not queued again
  EXPECT_EQ(sim.snap().pending_work, 1u);
  ASSERT_EQ(sim.quiesce(), Errno::ok);
  EXPECT_FALSE(sim.stock(1).flushing);
  EXPECT_TRUE(sim.stock(1).page_stock.empty());
  EXPECT_EQ(sim.cg("/a").usage_pages, 1);
  EXPECT_EQ(sim.objcg_of("/a").nr_charged_bytes, 3960u);
}

// queue_work_on (v6.6) sets WORK_STRUCT_PENDING and queues nothing when the
// work is already pending. The model-only `drain` op clears FLUSHING while
// CPU 1's drain work is still queued; the next drain_all_stock sets FLUSHING
// again and schedule_work_on finds the work pending: one item, not two.
TEST(ImplModel, DrainOfAFlushingCpuDoesNotQueueItsWorkTwice) {
  Sim sim;
  ASSERT_EQ(sim.mkdir("/a"), Errno::ok);
  ASSERT_EQ(sim.spawn("t", "/a", 1), Errno::ok);
  ASSERT_EQ(sim.slab("t", "o", 128), Errno::ok);
  ASSERT_EQ(sim.drain_all("/a", 0), Errno::ok);
  ASSERT_EQ(sim.snap().pending_work, 1u);
  ASSERT_EQ(sim.drain(1), Errno::ok);
  EXPECT_FALSE(sim.stock(1).flushing);
  ASSERT_EQ(sim.slab("t", "o2", 128), Errno::ok);  // CPU 1 caches /a again
  ASSERT_EQ(sim.drain_all("/a", 0), Errno::ok);
  EXPECT_TRUE(sim.stock(1).flushing);
  EXPECT_EQ(sim.snap().pending_work, 1u);
  ASSERT_EQ(sim.quiesce(), Errno::ok);
  EXPECT_FALSE(sim.stock(1).flushing);
  EXPECT_TRUE(sim.stock(1).page_stock.empty());
}

TEST(ImplModel, CpuOfflineDrainsIntoTheControlCpu) {
  Sim sim(4, 4096, impl_factory(), spec::Profile::v6_6_hotplug_fix);
  ASSERT_EQ(sim.mkdir("/a"), Errno::ok);
  ASSERT_EQ(sim.spawn("t", "/a", 3), Errno::ok);
  ASSERT_EQ(sim.slab("t", "o", 128), Errno::ok);
  ASSERT_EQ(sim.free("o", 3), Errno::ok);  // CPU 3: 4096 bytes, 63 pages
  ASSERT_EQ(sim.cpu_offline(3), Errno::ok);
  // The byte stock's page lands in CPU 0's page stock (the hotplug control
  // CPU); CPU 3's 63 pages are uncharged.
  EXPECT_FALSE(sim.stock(3).online);
  EXPECT_TRUE(sim.stock(3).page_stock.empty());
  EXPECT_EQ(sim.stock(0).page_stock.at(0).nr_pages, 1u);
  EXPECT_EQ(sim.cg("/a").usage_pages, 1);
  EXPECT_EQ(sim.snap().tasks.at(0).cpu, 0u);
  EXPECT_EQ(sim.cpu_offline(3), Errno::einval);
  ASSERT_EQ(sim.cpu_offline(1), Errno::ok);
  ASSERT_EQ(sim.cpu_offline(2), Errno::ok);
  EXPECT_EQ(sim.cpu_offline(0), Errno::ebusy);
}

// make_impl_model refuses what the impl does not model, with the reason: a
// bad configuration, a profile only the reference models, a mutant that
// does not apply to the profile (its own checks, before any model exists).
TEST(ImplModel, FactoryRefusesWhatTheImplDoesNotModel) {
  spec::PathTable paths;
  spec::Config config;
  config.ncpus = 0;
  EXPECT_THROW(make_impl_model(config, paths), std::invalid_argument);
  config.ncpus = 2;
  config.profile = spec::Profile::v5_2;
  try {
    make_impl_model(config, paths);
    ADD_FAILURE() << "an impl of v5.2";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("reference only"), std::string::npos) << e.what();
  }
  config.profile = spec::Profile::v6_6;
  try {
    make_impl_model(config, paths, spec::Mutant::evicted_slot_not_drained);  // v6.16's stock
    ADD_FAILURE() << "a v6.16 mutant on v6.6";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("does not apply"), std::string::npos) << e.what();
  }
  config.profile = spec::Profile::v6_16;
  EXPECT_EQ(make_impl_model(config, paths, spec::Mutant::evicted_slot_not_drained)->name(), "impl");
}

// A full per-CPU counter area (SystemOptions::pcpu_slots, 4096 by default)
// changes nothing the kernel's state shows: a ref that gets no slot starts
// in atomic mode, an objcg's ghost charged_pages counter is kept folded. The
// same operations on a system with one slot and on one with the default give
// the same snapshot after each, through a reparenting and the release of
// every objcg; the one slot comes back at the end.
TEST(ImplSystem, ACountersAreaWithoutFreeSlotsOnlyStartsRefsInAtomicMode) {
  for (spec::Profile profile : {spec::Profile::v6_6, spec::Profile::v5_10, spec::Profile::v6_16}) {
    SCOPED_TRACE(spec::profile_name(profile));
    spec::Config config;
    config.profile = profile;
    config.ncpus = 2;
    spec::PathTable paths;
    const spec::PathKey a = *paths.intern("/a"), ab = *paths.intern("/a/b");
    System roomy(config, paths);
    System full(config, paths, SystemOptions{.pcpu_slots = 1});
    struct Side {
      System& sys;
      Task tasks[2];
      Object objects[4];
    } sides[] = {{roomy, {}, {}}, {full, {}, {}}};
    int step = 0;
    auto both = [&](const auto& op) {
      ++step;
      for (Side& side : sides) op(side);
      ASSERT_EQ(roomy.snapshot(), full.snapshot()) << "after step " << step;
    };
    both([&](Side& s) { ASSERT_EQ(s.sys.mkdir(s.sys.cpu(0), a), Errno::ok); });
    both([&](Side& s) { ASSERT_EQ(s.sys.mkdir(s.sys.cpu(0), ab), Errno::ok); });
    EXPECT_EQ(full.pcpu.nr_free_slots(), 0u);
    both([&](Side& s) { ASSERT_EQ(s.sys.spawn(s.sys.cpu(0), s.tasks[0], ab, 0), Errno::ok); });
    both([&](Side& s) { ASSERT_EQ(s.sys.spawn(s.sys.cpu(1), s.tasks[1], a, 1), Errno::ok); });
    both([&](Side& s) {
      Cpu& c0 = s.sys.cpu(0);
      Cpu& c1 = s.sys.cpu(1);
      ASSERT_EQ(c0.alloc(s.tasks[0], s.objects[0], spec::AllocKind::slab, 100, 0, false), Errno::ok);
      ASSERT_EQ(c0.alloc(s.tasks[0], s.objects[1], spec::AllocKind::percpu, 64, 0, false), Errno::ok);
      ASSERT_EQ(c1.alloc(s.tasks[1], s.objects[2], spec::AllocKind::page, 0, 1, false), Errno::ok);
      ASSERT_EQ(c1.alloc(s.tasks[1], s.objects[3], spec::AllocKind::stack, 0, 0, false), Errno::ok);
    });
    both([&](Side& s) { s.sys.cpu(1).free(s.objects[0]); });  // a remote free: byte stock of CPU 1
    both([&](Side& s) { ASSERT_EQ(s.sys.migrate(s.sys.cpu(0), s.tasks[0], a), Errno::ok); });
    both([&](Side& s) { ASSERT_EQ(s.sys.rmdir(s.sys.cpu(0), ab), Errno::ok); });
    both([&](Side& s) { s.sys.quiesce(); });
    both([&](Side& s) {
      s.sys.cpu(0).free(s.objects[1]);
      s.sys.cpu(1).free(s.objects[2]);
      s.sys.cpu(0).free(s.objects[3]);
      s.sys.exit(s.sys.cpu(0), s.tasks[0]);
      s.sys.exit(s.sys.cpu(1), s.tasks[1]);
    });
    both([&](Side& s) { ASSERT_EQ(s.sys.rmdir(s.sys.cpu(1), a), Errno::ok); });
    both([&](Side& s) {  // v6.16 keeps a reparented objcg cached until a drain
      s.sys.cpu(0).drain();
      s.sys.cpu(1).drain();
      s.sys.quiesce();
    });
    const spec::Snapshot end = full.snapshot();
    for (const auto& o : end.objcgs) EXPECT_EQ(o.state, spec::ObjcgState::released) << o.id;
    EXPECT_TRUE(end.events.empty());
    EXPECT_EQ(full.pcpu.nr_free_slots(), 1u);
  }
}

TEST(ImplModel, RefusalsAreResults) {
  Sim sim;
  EXPECT_EQ(sim.mkdir("/a/b"), Errno::enoent);
  ASSERT_EQ(sim.mkdir("/a"), Errno::ok);
  EXPECT_EQ(sim.mkdir("/a"), Errno::eexist);
  ASSERT_EQ(sim.mkdir("/a/b"), Errno::ok);
  EXPECT_EQ(sim.rmdir("/a"), Errno::ebusy);
  EXPECT_EQ(sim.rmdir("/"), Errno::ebusy);
  EXPECT_EQ(sim.set_max("/", 5), Errno::einval);
  EXPECT_EQ(sim.rmdir("/x"), Errno::enoent);
  ASSERT_EQ(sim.rmdir("/a/b"), Errno::ok);
  EXPECT_EQ(sim.rmdir("/a"), Errno::ok);  // a dying child does not block
  EXPECT_EQ(sim.mkdir("/a"), Errno::ok);  // nor does a dying memcg of that path
  EXPECT_EQ(sim.drain(7), Errno::einval);
}

// The operations a driver never sends (a CPU out of range, a task or object
// that is not live, one that already is) are refused, by the impl exactly as
// by the reference: the models' own input checks, which no generated
// campaign takes (the generator resolves every key to a live one).
TEST(ImplModel, OperationsOnWhatDoesNotExistAreRefusedAsByTheReference) {
  for (const auto& [name, factory] :
       {std::pair{"impl", impl_factory()}, std::pair{"reference", reference_factory()}}) {
    SCOPED_TRACE(name);
    Sim sim(2, 4096, factory);
    constexpr spec::Cpu kBad = 5;
    ASSERT_EQ(sim.mkdir("/a"), Errno::ok);
    ASSERT_EQ(sim.spawn("t", "/a", 0), Errno::ok);
    EXPECT_EQ(sim.mkdir("/"), Errno::eexist);
    EXPECT_EQ(sim.apply(spec::Mkdir{spec::PathKey{999}}), Errno::enoent);  // never interned
    EXPECT_EQ(sim.mkdir("/b", kBad), Errno::ok);  // mkdir runs on the default CPU then
    EXPECT_EQ(sim.rmdir("/b", kBad), Errno::einval);
    EXPECT_EQ(sim.spawn("u", "/a", kBad), Errno::einval);
    EXPECT_EQ(sim.spawn("t", "/a", 1), Errno::eexist);
    EXPECT_EQ(sim.exit("ghost"), Errno::enoent);
    // A migration runs on the default CPU then, as a mkdir does (the reference
    // and the kernel's code take no CPU for either).
    EXPECT_EQ(sim.apply(spec::Migrate{sim.task("t"), sim.path("/b"), kBad}), Errno::ok);
    EXPECT_EQ(sim.task_snap("t").memcg, sim.id("/b"));
    EXPECT_EQ(sim.migrate("ghost", "/b"), Errno::enoent);
    EXPECT_EQ(sim.run_on("t", kBad), Errno::einval);
    EXPECT_EQ(sim.run_on("ghost", 1), Errno::enoent);
    EXPECT_EQ(sim.slab("ghost", "g", 64), Errno::enoent);
    ASSERT_EQ(sim.slab("t", "o", 64), Errno::ok);
    EXPECT_EQ(sim.slab("t", "o", 64), Errno::eexist);
    EXPECT_EQ(sim.free("o", kBad), Errno::einval);
    EXPECT_EQ(sim.free("never", 0), Errno::enoent);
    EXPECT_EQ(sim.drain_all("/a", kBad), Errno::einval);
    EXPECT_EQ(sim.set_max("/a", 10, kBad), Errno::einval);
    EXPECT_EQ(sim.cpu_offline(kBad), Errno::einval);
    // None of it changed anything: the object is still there, once.
    EXPECT_EQ(sim.free("o", 0), Errno::ok);
    EXPECT_EQ(sim.free("o", 0), Errno::enoent);
  }
}

// The impl's defensive paths (docs/COVERAGE.md): a freed memcg or a released
// objcg that something still touches is recorded as the model's use after
// free (and a put below zero as an underflow), never a count that goes
// negative or comes back to life. A correct model never does this (the
// invariants' job is to notice when it does); the test calls the ref
// operations directly on the tombstones a rmdir leaves.
TEST(ImplSystem, TouchingAFreedMemcgOrAReleasedObjcgIsRecordedNotUndone) {
  spec::Config config;
  config.profile = spec::Profile::v6_6;
  config.ncpus = 2;
  spec::PathTable paths;
  const spec::PathKey a = *paths.intern("/a");
  System sys(config, paths);
  ASSERT_EQ(sys.mkdir(sys.cpu(0), a), Errno::ok);
  Memcg* memcg = sys.online_memcg(a);
  ASSERT_NE(memcg, nullptr);
  Objcg* objcg = memcg->objcg.load();
  ASSERT_NE(objcg, nullptr);
  ASSERT_EQ(sys.rmdir(sys.cpu(0), a), Errno::ok);
  sys.quiesce();
  ASSERT_EQ(memcg->load_state(), CgroupState::freed);
  ASSERT_EQ(objcg->load_state(), ObjcgState::released);
  ASSERT_TRUE(sys.snapshot().events.empty());

  Cpu& c = sys.cpu(1);
  css_get(c, memcg);
  css_put(c, memcg);
  EXPECT_FALSE(css_tryget(c, memcg));
  obj_cgroup_get(c, objcg);                 // a get at zero: was_zero
  obj_cgroup_put(c, objcg);                 // a put at zero: underflow, and on a released objcg
  EXPECT_FALSE(obj_cgroup_tryget(c, objcg));  // a failed tryget is no event
  using spec::Event;
  using spec::EventKind;
  const std::vector<Event> expected = {
      {EventKind::memcg_use_after_free, memcg->id, 0},
      {EventKind::memcg_use_after_free, memcg->id, 0},
      {EventKind::memcg_use_after_free, memcg->id, 0},
      {EventKind::objcg_use_after_free, objcg->id, 0},
      {EventKind::objcg_use_after_free, objcg->id, 0},
      {EventKind::objcg_ref_underflow, objcg->id, -1},
  };
  const spec::Snapshot s = sys.snapshot();
  EXPECT_EQ(s.events, expected);
  // Nothing came back: still freed, still released with no reference, no work queued.
  EXPECT_EQ(s.cgroup(memcg->id).state, CgroupState::freed);
  for (const auto& o : s.objcgs)
    if (o.id == objcg->id) {
      EXPECT_EQ(o.state, ObjcgState::released);
      EXPECT_EQ(o.refs, 0);
    }
  EXPECT_EQ(s.pending_work, 0u);
}

// percpu_ref with CSS_NO_REF (the root css): every operation succeeds and
// changes nothing, a kill does not kill it and the switch to atomic mode
// reports no release; it takes no per-CPU slot. A counted ref beside it for
// contrast: the kill leaves the per-CPU get counted, the switch folds it.
TEST(ImplPcpuRef, ANoRefCountIgnoresGetsPutsKillAndSwitch) {
  PercpuArea area(2, 4);
  PcpuRef root;
  root.init(area, 1, /*no_ref=*/true);
  EXPECT_EQ(area.nr_free_slots(), 4u);
  EXPECT_EQ(root.get(area.cpu_base(0)), RefResult::ok);
  EXPECT_EQ(root.put(area.cpu_base(1)), RefResult::ok);
  EXPECT_EQ(root.put(area.cpu_base(1)), RefResult::ok);  // no underflow: nothing is counted
  EXPECT_EQ(root.tryget(area.cpu_base(0)), RefResult::ok);
  EXPECT_EQ(root.kill(), RefResult::ok);
  EXPECT_FALSE(root.killed());
  EXPECT_FALSE(root.complete_switch(area));
  EXPECT_FALSE(root.switched());
  EXPECT_EQ(root.total(area), 0);

  PcpuRef counted;
  counted.init(area, 1, /*no_ref=*/false);
  EXPECT_EQ(area.nr_free_slots(), 3u);
  EXPECT_EQ(counted.get(area.cpu_base(0)), RefResult::ok);
  EXPECT_EQ(counted.total(area), 2);
  EXPECT_EQ(counted.kill(), RefResult::ok);  // the initial ref goes; the get's stays
  EXPECT_TRUE(counted.killed());
  EXPECT_FALSE(counted.complete_switch(area));
  EXPECT_EQ(counted.total(area), 1);
  EXPECT_EQ(area.nr_free_slots(), 4u);
  EXPECT_EQ(counted.put(area.cpu_base(1)), RefResult::released);
  EXPECT_EQ(counted.put(area.cpu_base(1)), RefResult::underflow);
  EXPECT_EQ(counted.get(area.cpu_base(0)), RefResult::was_zero);
  EXPECT_EQ(counted.tryget(area.cpu_base(0)), RefResult::failed);
}

// Model::live_object of a key no operation ever named (past every key the
// model has seen) is "no object", on both models, as for a freed one.
TEST(ImplModel, LiveObjectOfAKeyNeverUsedIsNone) {
  for (const auto& [name, factory] :
       {std::pair{"impl", impl_factory()}, std::pair{"reference", reference_factory()}}) {
    SCOPED_TRACE(name);
    spec::Config config;
    config.profile = spec::Profile::v6_6;
    config.ncpus = 2;
    spec::PathTable paths;
    const spec::PathKey a = *paths.intern("/a");
    auto model = factory(config, paths);
    EXPECT_FALSE(model->live_object(0).has_value());
    ASSERT_EQ(model->apply(spec::Mkdir{a, 0}), Errno::ok);
    ASSERT_EQ(model->apply(spec::Spawn{0, a, 0}), Errno::ok);
    ASSERT_EQ(model->apply(spec::Alloc{.task = 0, .obj = 3, .kind = spec::AllocKind::slab, .size_bytes = 64}), Errno::ok);
    auto o = model->live_object(3);
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->key, 3u);
    EXPECT_EQ(o->charged_bytes, 72u);  // 64 + the 8-byte objcg pointer
    EXPECT_FALSE(model->live_object(2).has_value());  // below it, never used
    EXPECT_FALSE(model->live_object(4).has_value());  // past every key seen
    EXPECT_FALSE(model->live_object(1u << 30).has_value());
    ASSERT_EQ(model->apply(spec::Free{3, 0}), Errno::ok);
    EXPECT_FALSE(model->live_object(3).has_value());
  }
}

}  // namespace
}  // namespace mv::impl::testing
