// Conformance: random v6.6 operation sequences replayed through the reference
// and the impl, results and snapshots compared after every operation, every
// invariant checked on the impl's snapshots. Seeded; the seed is printed and
// MV_SEED=<n> replays one sequence.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <sstream>

#include "impl/model.h"
#include "reference/model.h"
#include "spec/invariants.h"

namespace mv::impl {
namespace {

using spec::Errno;
using spec::Op;

class OpGenerator {
 public:
  OpGenerator(std::uint64_t seed, spec::PathTable& paths) : rng_(seed) {
    for (const char* p : {"/a", "/b", "/a/x", "/a/y", "/b/z", "/a/x/q"})
      paths_.push_back(*paths.intern(p));
    paths_.push_back(spec::kRootPath);
  }

  // The next op, chosen against the reference's current state so that names
  // resolve the way the trace driver would resolve them.
  Op next(const spec::Snapshot& s) {
    std::vector<spec::Cpu> online;
    for (const auto& st : s.stocks)
      if (st.online) online.push_back(st.cpu);
    auto cpu = [&] { return online[pick(online.size())]; };
    auto path = [&] { return paths_[pick(paths_.size())]; };
    auto live_task = [&]() -> std::optional<spec::TaskKey> {
      if (s.tasks.empty()) return std::nullopt;
      return s.tasks[pick(s.tasks.size())].key;
    };
    int roll = static_cast<int>(pick(100));
    if (roll < 34) {
      if (auto t = live_task()) return alloc(*t);
    } else if (roll < 58) {
      if (!s.objects.empty()) return spec::Free{s.objects[pick(s.objects.size())].key, cpu()};
    } else if (roll < 64) {
      return spec::Mkdir{path(), cpu()};
    } else if (roll < 70) {
      return spec::Rmdir{path(), cpu()};
    } else if (roll < 75) {
      return spec::Spawn{next_task_++, path(), cpu()};
    } else if (roll < 78) {
      if (auto t = live_task()) return spec::Exit{*t};
    } else if (roll < 82) {
      if (auto t = live_task()) return spec::Migrate{*t, path()};
    } else if (roll < 85) {
      if (auto t = live_task()) return spec::RunOn{*t, cpu()};
    } else if (roll < 88) {
      // Also on a CPU whose drain work is still queued (FLUSHING set): both
      // models then keep queue_work_on's PENDING rule (one drain work per CPU).
      return spec::Drain{cpu()};
    } else if (roll < 91) {
      return spec::DrainAll{path(), cpu()};
    } else if (roll < 95) {
      static const std::optional<std::uint64_t> maxes[] = {0, 1, 3, 64, 70, 200, std::nullopt};
      return spec::SetMax{path(), maxes[pick(std::size(maxes))], cpu()};
    } else if (roll < 96) {
      return spec::CpuOffline{static_cast<spec::Cpu>(pick(s.stocks.size()))};
    } else {
      return spec::Quiesce{};
    }
    return spec::Quiesce{};
  }

 private:
  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }

  Op alloc(spec::TaskKey task) {
    spec::Alloc a{task, next_obj_++, spec::AllocKind::slab};
    a.nofail = pick(10) == 0;
    static const std::uint64_t slab_sizes[] = {8, 64, 128, 192, 1000, 4088, 4096, 8192, 20000};
    static const std::uint64_t pcpu_sizes[] = {1, 4, 100, 1024, 8000, 40000};
    switch (pick(8)) {
      case 0:
        a.kind = spec::AllocKind::percpu;
        a.size_bytes = pcpu_sizes[pick(std::size(pcpu_sizes))];
        break;
      case 1:
        a.kind = spec::AllocKind::page;
        a.order = static_cast<std::uint32_t>(pick(4));
        break;
      case 2:
        a.kind = spec::AllocKind::stack;
        break;
      default:
        a.size_bytes = pick(3) == 0 ? 1 + pick(9000) : slab_sizes[pick(std::size(slab_sizes))];
    }
    return a;
  }

  std::mt19937_64 rng_;
  std::vector<spec::PathKey> paths_;
  spec::TaskKey next_task_ = 0;
  spec::ObjKey next_obj_ = 0;
};

// Where two snapshots first differ, in words.
std::string first_difference(const spec::Snapshot& ref, const spec::Snapshot& imp) {
  std::ostringstream out;
  auto sizes = [&](const char* what, std::size_t a, std::size_t b) {
    out << what << " count: reference " << a << ", impl " << b;
  };
  if (ref.cgroups.size() != imp.cgroups.size()) {
    sizes("cgroups", ref.cgroups.size(), imp.cgroups.size());
    return out.str();
  }
  for (std::size_t i = 0; i < ref.cgroups.size(); ++i) {
    const auto& a = ref.cgroups[i];
    const auto& b = imp.cgroups[i];
    if (a == b) continue;
    out << "memcg " << a.id << ": reference {state " << spec::cgroup_state_name(a.state)
        << " usage " << a.usage_pages << " failcnt " << a.failcnt << " watermark "
        << a.watermark_pages << " css_refs " << a.css_refs << " tasks " << a.nr_tasks
        << " offlined " << a.offlined << "} impl {state " << spec::cgroup_state_name(b.state)
        << " usage " << b.usage_pages << " failcnt " << b.failcnt << " watermark "
        << b.watermark_pages << " css_refs " << b.css_refs << " tasks " << b.nr_tasks
        << " offlined " << b.offlined << "}";
    return out.str();
  }
  if (ref.objcgs.size() != imp.objcgs.size()) {
    sizes("objcgs", ref.objcgs.size(), imp.objcgs.size());
    return out.str();
  }
  for (std::size_t i = 0; i < ref.objcgs.size(); ++i) {
    const auto& a = ref.objcgs[i];
    const auto& b = imp.objcgs[i];
    if (a == b) continue;
    out << "objcg " << a.id << ": reference {memcg " << a.memcg << " state "
        << spec::objcg_state_name(a.state) << " refs " << a.refs << " nr_charged_bytes "
        << a.nr_charged_bytes << " charged_pages " << a.charged_pages << "} impl {memcg "
        << b.memcg << " state " << spec::objcg_state_name(b.state) << " refs " << b.refs
        << " nr_charged_bytes " << b.nr_charged_bytes << " charged_pages " << b.charged_pages
        << "}";
    return out.str();
  }
  for (std::size_t i = 0; i < ref.stocks.size(); ++i) {
    const auto& a = ref.stocks[i];
    const auto& b = imp.stocks[i];
    if (a == b) continue;
    auto page = [](const spec::StockSnap& s) {
      return s.page_stock.empty() ? std::string("none")
                                  : std::to_string(s.page_stock[0].memcg) + "x" +
                                        std::to_string(s.page_stock[0].nr_pages);
    };
    out << "cpu " << i << " stock: reference {page " << page(a) << " objcg "
        << a.cached_objcg.value_or(0) << " bytes " << a.nr_bytes << " flushing " << a.flushing
        << "} impl {page " << page(b) << " objcg " << b.cached_objcg.value_or(0) << " bytes "
        << b.nr_bytes << " flushing " << b.flushing << "}";
    return out.str();
  }
  if (ref.objects != imp.objects) return "objects differ";
  if (ref.tasks != imp.tasks) return "tasks differ";
  if (ref.events != imp.events) {
    sizes("events", ref.events.size(), imp.events.size());
    return out.str();
  }
  if (ref.pending_work != imp.pending_work) {
    out << "pending_work: reference " << ref.pending_work << ", impl " << imp.pending_work;
    return out.str();
  }
  return ref == imp ? "" : "config differs";
}

struct RunResult {
  bool ok = true;
  std::string failure;
  std::size_t ops = 0;
};

RunResult run_one(std::uint64_t seed, std::size_t nr_ops) {
  spec::Config config;
  config.ncpus = 1 + static_cast<std::uint32_t>(seed % 4);
  static const std::uint64_t page_sizes[] = {4096, 4096, 16384, 65536};
  config.page_size_bytes = page_sizes[(seed / 4) % 4];
  spec::PathTable paths;
  OpGenerator gen(seed, paths);
  auto ref = reference::make_reference_model(config, paths);
  auto imp = make_impl_model(config, paths);
  spec::Monitor monitor(config, &paths);
  spec::Snapshot ref_before = ref->snapshot();
  spec::Snapshot imp_before = imp->snapshot();
  RunResult run;
  for (std::size_t i = 0; i < nr_ops; ++i) {
    Op op = gen.next(ref_before);
    Errno ref_result = ref->apply(op);
    Errno imp_result = imp->apply(op);
    spec::Snapshot ref_after = ref->snapshot();
    spec::Snapshot imp_after = imp->snapshot();
    std::ostringstream where;
    where << "seed " << seed << " (ncpus " << config.ncpus << ", page " << config.page_size_bytes
          << "), op " << i << " (" << spec::op_name(op) << "): ";
    if (ref_result != imp_result) {
      run = {false, where.str() + "result reference " + std::string(spec::errno_name(ref_result)) +
                        ", impl " + std::string(spec::errno_name(imp_result)), i};
      return run;
    }
    if (!(ref_after == imp_after)) {
      run = {false, where.str() + first_difference(ref_after, imp_after), i};
      return run;
    }
    // The profile's known kernel bugs (spec/known_bug.h) are results.
    auto violations =
        spec::unexplained(monitor.check(spec::Step{&imp_before, &op, imp_result, &imp_after}));
    if (!violations.empty()) {
      run = {false, where.str() + violations[0].invariant + ": " + violations[0].message, i};
      return run;
    }
    ref_before = std::move(ref_after);
    imp_before = std::move(imp_after);
  }
  run.ops = nr_ops;
  return run;
}

std::uint64_t base_seed() {
  if (const char* env = std::getenv("MV_SEED")) return std::strtoull(env, nullptr, 10);
  return std::random_device{}();
}

TEST(ImplConformance, RandomSequencesMatchTheReferenceAfterEveryOp) {
  const bool replay = std::getenv("MV_SEED") != nullptr;
  const std::uint64_t first = base_seed();
  const std::uint64_t nr_seeds = replay ? 1 : 300;
  std::printf("impl conformance: seeds %llu..%llu (replay one with MV_SEED=<seed>)\n",
              static_cast<unsigned long long>(first),
              static_cast<unsigned long long>(first + nr_seeds - 1));
  std::size_t total_ops = 0;
  for (std::uint64_t seed = first; seed < first + nr_seeds; ++seed) {
    RunResult run = run_one(seed, 400);
    ASSERT_TRUE(run.ok) << run.failure << "\nreplay: MV_SEED=" << seed;
    total_ops += run.ops;
  }
  std::printf("impl conformance: %zu ops compared\n", total_ops);
}

}  // namespace
}  // namespace mv::impl
