// Google Benchmark: the kmem charge paths of the impl against the reference's
// equivalent paths, side by side in one run. Not part of ctest; run
// scripts/bench.sh for the table (medians of repetitions, impl/ref ratios).
//
//   hit   : slab alloc + free of a 64-byte object on the byte-stock hit path,
//           with the objcg tryget/put the allocation implies
//   miss  : a 4088-byte object (4096 charged): byte-stock miss, one page from
//           the page stock; the free gives the page back to the page stock
//   pcnt  : page_counter_try_charge + page_counter_uncharge of one page on a
//           two-level hierarchy (/a under the root)
// diff 0: every thread's task in /a ("same"); diff 1: thread i in /a or /b
// ("diff"). profile 0: v6.6, profile 1: v5.10 (batch 32, the byte stock
// drained whole past PAGE_SIZE), profile 2: v6.16 (seven page-stock slots,
// the task's cached objcg: no tryget per allocation), side by side in one run. Each thread is one
// simulated CPU (thread_index). The reference is sequential: its threads
// share one model under a mutex.
#include <benchmark/benchmark.h>

#include <memory>
#include <mutex>

#include "impl/kmem.h"
#include "impl/page_counter.h"
#include "impl/system.h"
#include "reference/kernel_state.h"
#include "reference/model.h"
#include "reference/page_counter.h"

namespace mv::bench {
namespace {

constexpr int kMaxThreads = 2;

// The profiles of the `profile` argument (the impl's fast-path designs).
constexpr spec::Profile kProfiles[] = {spec::Profile::v6_6, spec::Profile::v5_10, spec::Profile::v6_16};
spec::Profile profile_arg(const benchmark::State& state) { return kProfiles[state.range(1)]; }

// --- impl -------------------------------------------------------------------

struct alignas(64) ImplThread {
  impl::Task task;
  impl::Object obj;
  impl::Object keep;  // a live 64-byte object: keeps the byte stock non-empty
};

struct ImplWorld {
  spec::Config config;
  spec::PathTable paths;
  std::unique_ptr<impl::System> sys;
  ImplThread threads[kMaxThreads];
};
ImplWorld* g_impl = nullptr;

void impl_setup(const benchmark::State& state) {
  g_impl = new ImplWorld;
  g_impl->config.ncpus = 4;
  g_impl->config.profile = profile_arg(state);
  spec::PathKey a = *g_impl->paths.intern("/a"), b = *g_impl->paths.intern("/b");
  g_impl->sys = std::make_unique<impl::System>(g_impl->config, g_impl->paths);
  impl::System& sys = *g_impl->sys;
  sys.mkdir(sys.cpu(0), a);
  sys.mkdir(sys.cpu(0), b);
  for (int i = 0; i < kMaxThreads; ++i) {
    impl::Cpu& cpu = sys.cpu(i);
    ImplThread& t = g_impl->threads[i];
    sys.spawn(cpu, t.task, state.range(0) && i % 2 ? b : a, i);
    impl::slab_alloc(cpu, t.task, t.keep, 64, false);
  }
}

void impl_teardown(const benchmark::State&) {
  delete g_impl;
  g_impl = nullptr;
}

void BM_impl_hit(benchmark::State& state) {
  impl::Cpu& cpu = g_impl->sys->cpu(state.thread_index());
  ImplThread& t = g_impl->threads[state.thread_index()];
  for (auto _ : state) {
    impl::slab_alloc(cpu, t.task, t.obj, 64, false);
    impl::slab_free(cpu, t.obj);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_impl_miss(benchmark::State& state) {
  impl::Cpu& cpu = g_impl->sys->cpu(state.thread_index());
  ImplThread& t = g_impl->threads[state.thread_index()];
  for (auto _ : state) {
    impl::slab_alloc(cpu, t.task, t.obj, 4088, false);
    impl::slab_free(cpu, t.obj);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_impl_pcnt(benchmark::State& state) {
  impl::Memcg* memcg = g_impl->threads[state.thread_index()].task.memcg.load();
  impl::EventLog& events = g_impl->sys->events;
  for (auto _ : state) {
    impl::PageCounter* fail = nullptr;
    impl::page_counter_try_charge(&memcg->memory, 1, &fail, events);
    impl::page_counter_uncharge(&memcg->memory, 1, events);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

// --- reference ---------------------------------------------------------------

struct RefWorld {
  spec::Config config;
  spec::PathTable paths;
  std::unique_ptr<spec::Model> model;
  reference::Kernel kernel;  // the thin direct API, for page_counter
  std::mutex lock;           // a sequential model shared by the threads
  spec::TaskKey task[kMaxThreads] = {0, 1};
  spec::ObjKey obj[kMaxThreads] = {10, 11};
  spec::MemcgId memcg[kMaxThreads] = {1, 1};
};
RefWorld* g_ref = nullptr;

void ref_setup(const benchmark::State& state) {
  g_ref = new RefWorld;
  g_ref->config.ncpus = 4;
  g_ref->config.profile = profile_arg(state);
  spec::PathKey a = *g_ref->paths.intern("/a"), b = *g_ref->paths.intern("/b");
  g_ref->model = reference::make_reference_model(g_ref->config, g_ref->paths);
  spec::Model& m = *g_ref->model;
  m.apply(spec::Mkdir{a});
  m.apply(spec::Mkdir{b});
  for (int i = 0; i < kMaxThreads; ++i) {
    bool in_b = state.range(0) && i % 2;
    m.apply(spec::Spawn{g_ref->task[i], in_b ? b : a, static_cast<spec::Cpu>(i)});
    m.apply(spec::Alloc{g_ref->task[i], static_cast<spec::ObjKey>(20 + i), spec::AllocKind::slab, 64});
    g_ref->memcg[i] = in_b ? 2 : 1;
  }
  g_ref->kernel = reference::boot_kernel(g_ref->config, g_ref->paths);
  reference::cgroup_mkdir(g_ref->kernel, a);
  reference::cgroup_mkdir(g_ref->kernel, b);
}

void ref_teardown(const benchmark::State&) {
  delete g_ref;
  g_ref = nullptr;
}

void ref_pair(benchmark::State& state, std::uint64_t size_bytes) {
  int i = state.thread_index();
  spec::Op alloc = spec::Alloc{g_ref->task[i], g_ref->obj[i], spec::AllocKind::slab, size_bytes};
  spec::Op free = spec::Free{g_ref->obj[i], static_cast<spec::Cpu>(i)};
  for (auto _ : state) {
    std::lock_guard g(g_ref->lock);
    g_ref->model->apply(alloc);
    g_ref->model->apply(free);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ref_hit(benchmark::State& state) { ref_pair(state, 64); }
void BM_ref_miss(benchmark::State& state) { ref_pair(state, 4088); }

void BM_ref_pcnt(benchmark::State& state) {
  spec::MemcgId memcg = g_ref->memcg[state.thread_index()];
  for (auto _ : state) {
    std::lock_guard g(g_ref->lock);
    reference::page_counter_try_charge(g_ref->kernel, memcg, 1);
    reference::page_counter_uncharge(g_ref->kernel, memcg, 1);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

#define MV_BENCH(fn, setup, teardown, profiles)                                          \
  BENCHMARK(fn)->Setup(setup)->Teardown(teardown)->ArgNames({"diff", "profile"})->        \
      ArgsProduct({{0, 1}, profiles})->Threads(1)->Threads(2)->UseRealTime()
#define MV_ALL_PROFILES {0, 1, 2}
// page_counter is the same code in every profile.
#define MV_ONE_PROFILE {0}

MV_BENCH(BM_impl_hit, impl_setup, impl_teardown, MV_ALL_PROFILES);
MV_BENCH(BM_ref_hit, ref_setup, ref_teardown, MV_ALL_PROFILES);
MV_BENCH(BM_impl_miss, impl_setup, impl_teardown, MV_ALL_PROFILES);
MV_BENCH(BM_ref_miss, ref_setup, ref_teardown, MV_ALL_PROFILES);
MV_BENCH(BM_impl_pcnt, impl_setup, impl_teardown, MV_ONE_PROFILE);
MV_BENCH(BM_ref_pcnt, ref_setup, ref_teardown, MV_ONE_PROFILE);

}  // namespace
}  // namespace mv::bench

BENCHMARK_MAIN();
