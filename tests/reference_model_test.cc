// The reference model as a whole (reference/model.cc): the factory, the
// canonical snapshot, determinism, bookkeeping identities checked on random
// runs, and replicas of the bundled scenarios' hand-computed numbers.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <set>
#include <vector>

#include "tests/reference_harness.h"

namespace mv::reference::testing {
namespace {

using spec::AllocKind;
using spec::CgroupState;
using spec::ObjcgState;

TEST(ReferenceModel, FactoryModelsEveryProfileAndRefusesBadConfigs) {
  spec::PathTable paths;
  spec::Config config;
  for (const auto& t : spec::all_profiles()) {
    ASSERT_TRUE(t.modeled) << t.name;
    config.profile = t.profile;
    EXPECT_EQ(make_reference_model(config, paths)->name(), "reference") << t.name;
  }
  config.profile = spec::Profile::v6_6;
  config.ncpus = 0;
  EXPECT_THROW(make_reference_model(config, paths), std::invalid_argument);
  config.ncpus = 2;
  auto model = make_reference_model(config, paths);
  EXPECT_EQ(model->name(), "reference");
}

TEST(ReferenceModel, BootSnapshot) {
  Sim sim(3, 16384);
  const auto& s = sim.snap();
  EXPECT_EQ(s.config.ncpus, 3u);
  EXPECT_EQ(s.config.page_size_bytes, 16384u);
  ASSERT_EQ(s.cgroups.size(), 1u);
  EXPECT_EQ(s.cgroups[0].id, 0u);
  EXPECT_EQ(s.cgroups[0].path, spec::kRootPath);
  EXPECT_FALSE(s.cgroups[0].parent);
  EXPECT_EQ(s.cgroups[0].state, CgroupState::online);
  EXPECT_EQ(s.cgroups[0].max_pages, std::nullopt);
  EXPECT_TRUE(s.objcgs.empty());
  ASSERT_EQ(s.stocks.size(), 3u);
  for (spec::Cpu cpu = 0; cpu < 3; ++cpu) {
    EXPECT_EQ(s.stocks[cpu].cpu, cpu);
    EXPECT_TRUE(s.stocks[cpu].online);
    EXPECT_TRUE(s.stocks[cpu].page_stock.empty());
  }
  EXPECT_EQ(s.pending_work, 0u);
}

TEST(ReferenceModel, SnapshotKeepsFreedCgroupsAndReleasedObjcgsInIdOrder) {
  Sim sim(1);
  sim.mkdir("/a");
  sim.mkdir("/b");
  sim.rmdir("/a");
  sim.quiesce();
  const auto& s = sim.snap();
  ASSERT_EQ(s.cgroups.size(), 3u);
  EXPECT_EQ(s.cgroups[1].state, CgroupState::freed);
  EXPECT_EQ(s.cgroups[1].css_refs, 0);
  ASSERT_EQ(s.objcgs.size(), 2u);
  EXPECT_EQ(s.objcgs[0].id, 1u);
  EXPECT_EQ(s.objcgs[0].state, ObjcgState::released);
  EXPECT_EQ(s.objcgs[0].refs, 0);
  EXPECT_EQ(s.objcgs[1].id, 2u);
  EXPECT_EQ(s.objcgs[1].state, ObjcgState::active);
}

TEST(ReferenceModel, ObjectsAndTasksAreListedByKey) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.spawn("t0", "/a", 0);
  sim.spawn("t1", "/", 1);
  sim.slab("t1", "o0", 8);
  sim.slab("t0", "o1", 8);
  sim.page("t0", "o2", 0);
  sim.free("o1", 0);
  const auto& s = sim.snap();
  ASSERT_EQ(s.objects.size(), 2u);
  EXPECT_LT(s.objects[0].key, s.objects[1].key);
  EXPECT_EQ(s.objects[1].kind, AllocKind::page);
  EXPECT_FALSE(s.objects[1].memcg);  // v6.6: no direct css holder
  ASSERT_EQ(s.tasks.size(), 2u);
  EXPECT_LT(s.tasks[0].key, s.tasks[1].key);
}

TEST(ReferenceModel, MisuseIsRefusedWithoutThrowing) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  sim.slab("t", "o", 8);
  EXPECT_EQ(sim.apply(spec::Exit{99}), Errno::enoent);
  EXPECT_EQ(sim.apply(spec::Free{99, 0}), Errno::enoent);
  EXPECT_EQ(sim.apply(spec::Alloc{99, 5, AllocKind::slab, 8, 0, false}), Errno::enoent);
  EXPECT_EQ(sim.slab("t", "o", 8), Errno::eexist);  // the key is live
  EXPECT_EQ(sim.spawn("t", "/a", 0), Errno::eexist);
  EXPECT_EQ(sim.apply(spec::Drain{7}), Errno::einval);
  EXPECT_EQ(sim.apply(spec::CpuOffline{7}), Errno::einval);
  EXPECT_EQ(sim.apply(spec::Mkdir{12345, 0}), Errno::enoent);
  EXPECT_EQ(sim.page("t", "huge", 11), Errno::enomem);  // > MAX_ORDER
  EXPECT_TRUE(sim.snap().events.empty());
}

// --- random runs -----------------------------------------------------------

// Picks only operations a trace driver would accept (live names, online CPUs).
class RandomOps {
 public:
  explicit RandomOps(std::uint32_t seed) : rng_(seed) {}

  Errno step(Sim& sim) {
    const auto& s = sim.snap();
    std::vector<spec::Cpu> online;
    for (const auto& st : s.stocks)
      if (st.online) online.push_back(st.cpu);
    auto cpu = [&] { return online[pick(online.size())]; };
    auto path = [&] { return kPaths[pick(kPaths.size())]; };
    std::vector<std::string> live_tasks, live_objs;
    for (const auto& name : kTasks)
      if (task_live(sim, name)) live_tasks.push_back(name);
    for (std::size_t i = 0; i < kObjects; ++i)
      if (sim.live(obj_name(i))) live_objs.push_back(obj_name(i));

    switch (pick(16)) {
      case 0: return sim.mkdir(path(), cpu());
      case 1: return sim.rmdir(path(), cpu());
      case 2: {
        auto name = kTasks[pick(kTasks.size())];
        if (task_live(sim, name)) return sim.exit(name);
        return sim.spawn(name, path(), cpu());
      }
      case 3:
        if (live_tasks.empty()) return Errno::ok;
        return sim.migrate(live_tasks[pick(live_tasks.size())], path());
      case 4:
        if (live_tasks.empty()) return Errno::ok;
        return sim.run_on(live_tasks[pick(live_tasks.size())], cpu());
      case 5: case 6: case 7: case 8: {
        if (live_tasks.empty()) return Errno::ok;
        std::string obj = obj_name(pick(kObjects));
        if (sim.live(obj)) return sim.free(obj, cpu());
        auto task = live_tasks[pick(live_tasks.size())];
        bool nofail = pick(8) == 0;
        switch (pick(5)) {
          case 0: return sim.percpu(task, obj, 1 + pick(3000), nofail);
          case 1: return sim.page(task, obj, static_cast<std::uint32_t>(pick(7)), nofail);
          case 2: return sim.stack(task, obj, nofail);
          default: return sim.slab(task, obj, 1 + pick(6000), nofail);
        }
      }
      case 9: case 10:
        if (live_objs.empty()) return Errno::ok;
        return sim.free(live_objs[pick(live_objs.size())], cpu());
      case 11: return sim.drain(cpu());
      case 12: return sim.drain_all(path(), cpu());
      case 13: {
        std::optional<std::uint64_t> pages;
        if (pick(3) != 0) pages = pick(2) == 0 ? pick(20) : pick(200);
        return sim.set_max(path(), pages, cpu());
      }
      case 14:
        if (pick(4) == 0) return sim.cpu_offline(static_cast<spec::Cpu>(pick(s.stocks.size())));
        return Errno::ok;
      default: return sim.quiesce();
    }
  }

  static std::string obj_name(std::size_t i) { return "o" + std::to_string(i); }

 private:
  static bool task_live(const Sim& sim, const std::string& name) {
    try {
      sim.task_snap(name);
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }
  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }

  static inline const std::vector<std::string> kPaths = {"/", "/a", "/b", "/a/x", "/b/y"};
  static inline const std::vector<std::string> kTasks = {"t0", "t1", "t2", "t3"};
  static constexpr std::size_t kObjects = 16;
  std::mt19937 rng_;
};

bool in_subtree(const spec::Snapshot& s, spec::MemcgId memcg, spec::MemcgId root) {
  for (std::optional<spec::MemcgId> m = memcg; m; m = s.cgroup(*m).parent)
    if (*m == root) return true;
  return false;
}

// Bookkeeping identities the v6.6 reference must keep after every operation
// (docs/MODEL-v6.6.md "Reference counts", docs/KERNEL.md section 10).
void expect_bookkeeping(const spec::Snapshot& s, const std::string& where) {
  SCOPED_TRACE(where);
  const std::int64_t page_bytes = static_cast<std::int64_t>(s.config.page_size_bytes);
  EXPECT_TRUE(s.events.empty());
  for (const auto& st : s.stocks)
    for (const auto& slot : st.page_stock) EXPECT_LE(slot.nr_pages, 64u);

  for (const auto& o : s.objcgs) {
    if (o.state == ObjcgState::released) {
      EXPECT_EQ(o.charged_pages, 0) << "objcg " << o.id;
      EXPECT_EQ(o.nr_charged_bytes % s.config.page_size_bytes, 0u) << "objcg " << o.id;
      continue;
    }
    std::int64_t bytes = o.nr_charged_bytes;
    std::int64_t refs = (o.state == ObjcgState::active ? 1 : 0) + (o.switch_pending ? 1 : 0);
    for (const auto& x : s.objects) {
      if (x.objcg != o.id) continue;
      bytes += static_cast<std::int64_t>(x.charged_bytes);
      refs += (x.kind == AllocKind::slab || x.kind == AllocKind::percpu) ? 1 : x.nr_kmem_pages;
    }
    for (const auto& st : s.stocks) {
      if (st.cached_objcg != o.id) continue;
      bytes += st.nr_bytes;
      refs += 1;
    }
    EXPECT_EQ(bytes, o.charged_pages * page_bytes) << "byte conservation, objcg " << o.id;
    EXPECT_EQ(o.refs, refs) << "refs of objcg " << o.id;
  }

  for (const auto& c : s.cgroups) {
    if (c.state == CgroupState::freed) continue;
    std::int64_t held = 0;
    for (const auto& st : s.stocks)
      for (const auto& slot : st.page_stock)
        if (in_subtree(s, slot.memcg, c.id)) held += slot.nr_pages;
    for (const auto& o : s.objcgs)
      if (o.state != ObjcgState::released && in_subtree(s, o.memcg, c.id)) held += o.charged_pages;
    if (c.state == CgroupState::online) {
      EXPECT_EQ(c.usage_pages, held) << "page conservation, memcg " << c.id;
    }
    if (c.id == 0) continue;
    // base while online; kill_css's and the confirm reference while dying
    // until the offline; the ID reference until the offline.
    std::int64_t css = (c.state == CgroupState::online ? 1 : 0) +
                       (c.state == CgroupState::dying && !c.offlined ? 2 : 0) +
                       (c.offlined ? 0 : 1) + c.nr_tasks;
    for (const auto& child : s.cgroups)
      if (child.parent == c.id && child.state != CgroupState::freed) css += 1;
    for (const auto& st : s.stocks)
      for (const auto& slot : st.page_stock)
        if (slot.memcg == c.id) css += 1;
    EXPECT_EQ(c.css_refs, css) << "css refs of memcg " << c.id;
  }
}

TEST(ReferenceModel, IdenticalOperationSequencesGiveIdenticalSnapshots) {
  const std::uint32_t seed = 20240606;
  std::printf("reference determinism: seed %u\n", seed);
  Sim one(4), two(4);
  RandomOps ops_one(seed), ops_two(seed);
  for (int i = 0; i < 400; ++i) {
    auto r1 = ops_one.step(one);
    auto r2 = ops_two.step(two);
    ASSERT_EQ(r1, r2) << "step " << i;
    ASSERT_TRUE(one.snap() == two.snap()) << "step " << i << " (seed " << seed << ")";
  }
  // snapshot() is a pure read.
  EXPECT_TRUE(one.fresh_snapshot() == one.fresh_snapshot());
  EXPECT_TRUE(one.fresh_snapshot() == one.snap());
}

TEST(ReferenceModel, RandomRunsKeepTheBookkeepingIdentities) {
  // Coverage marks: the runs must reach the interesting states, or the
  // identities above were checked on trivial states only.
  bool saw_released = false, saw_freed = false, saw_dying = false, saw_enomem = false;
  bool saw_cpu_offline = false, saw_flushing = false, saw_nr_charged_bytes = false;
  for (std::uint32_t seed : {1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u}) {
    for (std::uint64_t page : {4096u, 65536u}) {
      Sim sim(seed % 3 + 2, page);
      RandomOps ops(seed);
      for (int i = 0; i < 300; ++i) {
        saw_enomem |= ops.step(sim) == Errno::enomem;
        const auto& s = sim.snap();
        expect_bookkeeping(s, "seed " + std::to_string(seed) + " page " + std::to_string(page) +
                                  " step " + std::to_string(i));
        if (::testing::Test::HasFailure()) return;
        for (const auto& o : s.objcgs) {
          saw_released |= o.state == ObjcgState::released;
          saw_nr_charged_bytes |= o.state != ObjcgState::released && o.nr_charged_bytes != 0;
        }
        for (const auto& c : s.cgroups) {
          saw_freed |= c.state == CgroupState::freed;
          saw_dying |= c.state == CgroupState::dying;
        }
        for (const auto& st : s.stocks) {
          saw_cpu_offline |= !st.online;
          saw_flushing |= st.flushing;
        }
      }
      sim.quiesce();
      expect_bookkeeping(sim.snap(), "final quiesce, seed " + std::to_string(seed));
      EXPECT_EQ(sim.snap().pending_work, 0u);
    }
  }
  EXPECT_TRUE(saw_released);
  EXPECT_TRUE(saw_freed);
  EXPECT_TRUE(saw_dying);
  EXPECT_TRUE(saw_enomem);
  EXPECT_TRUE(saw_cpu_offline);
  EXPECT_TRUE(saw_flushing);
  EXPECT_TRUE(saw_nr_charged_bytes);
}

// --- replicas of scenarios/*.expect.json --------------------------------------

TEST(ReferenceModel, ScenarioLimitEnomemAndNofail) {
  Sim sim(2);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  ASSERT_EQ(sim.set_max("/a", 10), Errno::ok);
  EXPECT_EQ(sim.page("t", "o1", 2), Errno::ok);
  EXPECT_EQ(sim.page("t", "o2", 3), Errno::enomem);
  EXPECT_EQ(sim.page("t", "o3", 3, true), Errno::ok);
  EXPECT_EQ(sim.slab("t", "o4", 100), Errno::enomem);
  EXPECT_EQ(sim.free("o3"), Errno::ok);
  EXPECT_EQ(sim.page("t", "o5", 3), Errno::ok);
  EXPECT_EQ(sim.set_max("/a", 5), Errno::ebusy);
  EXPECT_EQ(sim.cg("/a").usage_pages, 12);
  EXPECT_EQ(sim.cg("/a").max_pages, std::optional<std::uint64_t>(10));
  // 19 failed page_counter_try_charge per failed charge (the batch, n, n
  // after drain_all_stock, 16 MAX_RECLAIM_RETRIES), three failed charges.
  EXPECT_EQ(sim.cg("/a").failcnt, 1u + 3u * 19u);
  EXPECT_EQ(sim.cg("/a").watermark_pages, 12u);
  EXPECT_EQ(sim.cg("/a").css_refs, 4);
  EXPECT_EQ(sim.root().usage_pages, 12);
  EXPECT_EQ(sim.page_stock(0)->memcg, sim.id("/a"));
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 0u);
  EXPECT_EQ(sim.objcg_of("/a").refs, 3);
  EXPECT_EQ(sim.objcg_of("/a").charged_pages, 12);
}

TEST(ReferenceModel, ScenarioTestKmemDeadCgroups) {
  Sim sim(2);
  sim.mkdir("/p");
  for (int round = 1; round <= 3; ++round) {
    auto cg = "/p/c" + std::to_string(round);
    auto task = "t" + std::to_string(round);
    sim.mkdir(cg);
    sim.spawn(task, cg, 0);
    for (int i = 1; i <= 3; ++i) sim.slab(task, "dentry" + std::to_string(round * 10 + i), 200);
    sim.exit(task);
    sim.rmdir(cg);
  }
  sim.quiesce();
  const auto& s = sim.snap();
  EXPECT_EQ(sim.cg("/p").usage_pages, 3);
  EXPECT_EQ(sim.cg("/p").css_refs, 2);
  EXPECT_EQ(sim.root().usage_pages, 3);
  for (spec::MemcgId id = 2; id <= 4; ++id) EXPECT_EQ(s.cgroup(id).state, CgroupState::freed);
  EXPECT_EQ(s.cgroup(2).usage_pages, 1);
  EXPECT_EQ(s.objcgs[0].state, ObjcgState::active);
  EXPECT_EQ(s.objcgs[0].refs, 1);
  EXPECT_EQ(s.objcgs[1].memcg, sim.id("/p"));
  EXPECT_EQ(s.objcgs[1].state, ObjcgState::reparented);
  EXPECT_EQ(s.objcgs[1].refs, 3);
  EXPECT_EQ(s.objcgs[1].nr_charged_bytes, 3472u);
  EXPECT_EQ(s.objcgs[3].nr_charged_bytes, 3472u);
  EXPECT_TRUE(s.stocks[0].page_stock.empty());
  EXPECT_FALSE(s.stocks[0].cached_objcg);

  for (int round = 1; round <= 3; ++round)
    for (int i = 1; i <= 3; ++i) sim.free("dentry" + std::to_string(round * 10 + i), 0);
  sim.drain(0);
  sim.quiesce();
  EXPECT_EQ(sim.cg("/p").usage_pages, 0);
  EXPECT_EQ(sim.root().usage_pages, 0);
  EXPECT_EQ(sim.cg("/p").css_refs, 2);
  for (std::size_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(sim.snap().objcgs[i].state, ObjcgState::released);
    EXPECT_EQ(sim.snap().objcgs[i].nr_charged_bytes, 0u);
  }
  EXPECT_TRUE(sim.snap().objects.empty());
}

TEST(ReferenceModel, ScenarioSeed004StacksDoNotPin) {
  Sim sim(2);
  for (int round = 1; round <= 3; ++round) {
    auto task = "sleep" + std::to_string(round);
    sim.mkdir("/kmem_test");
    sim.spawn(task, "/kmem_test", 0);
    sim.stack(task, "stack" + std::to_string(round));
    sim.migrate(task, "/");
    sim.rmdir("/kmem_test");
  }
  sim.quiesce();
  const auto& s = sim.snap();
  for (spec::MemcgId id = 1; id <= 3; ++id) {
    EXPECT_EQ(s.cgroup(id).state, CgroupState::freed);
    EXPECT_EQ(s.cgroup(id).usage_pages, 4);
  }
  EXPECT_EQ(sim.root().usage_pages, 12);
  EXPECT_EQ(s.objcgs[0].memcg, 0u);
  EXPECT_EQ(s.objcgs[0].state, ObjcgState::reparented);
  EXPECT_EQ(s.objcgs[0].refs, 4);
  EXPECT_EQ(s.objcgs[2].refs, 4);
  EXPECT_EQ(sim.object("stack1").charged_bytes, 16384u);
  EXPECT_TRUE(s.stocks[0].page_stock.empty());

  for (int round = 1; round <= 3; ++round) sim.free("stack" + std::to_string(round), 0);
  sim.drain(0);
  sim.quiesce();
  EXPECT_EQ(sim.root().usage_pages, 0);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(sim.snap().objcgs[i].state, ObjcgState::released);
  EXPECT_TRUE(sim.snap().stocks[0].page_stock.empty());
}

TEST(ReferenceModel, ScenarioEmptyPageStockPinsThenUnpins) {
  Sim sim(1);
  sim.mkdir("/a");
  sim.spawn("t", "/a", 0);
  sim.page("t", "p0", 0);
  std::uint32_t order = 5;
  for (const char* name : {"p1", "p2", "p3", "p4", "p5", "p6"}) sim.page("t", name, order--);
  sim.exit("t");
  sim.rmdir("/a");
  sim.quiesce();
  EXPECT_EQ(sim.cg("/a").state, CgroupState::dying);
  EXPECT_EQ(sim.cg("/a").css_refs, 1);
  EXPECT_EQ(sim.page_stock(0)->memcg, sim.id("/a"));
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 0u);
  EXPECT_EQ(sim.objcg_of("/a").memcg, 0u);
  EXPECT_EQ(sim.objcg_of("/a").refs, 7);

  sim.mkdir("/b");
  sim.spawn("u", "/b", 0);
  sim.slab("u", "s1", 56);
  sim.quiesce();
  EXPECT_EQ(sim.snap().cgroup(1).state, CgroupState::freed);
  EXPECT_EQ(sim.page_stock(0)->memcg, sim.id("/b"));
  EXPECT_EQ(sim.page_stock(0)->nr_pages, 63u);
}

}  // namespace
}  // namespace mv::reference::testing
