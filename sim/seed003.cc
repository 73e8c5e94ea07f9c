// The seed 003 workload: Davydov's bound on the number of per-memcg kmem
// caches ("memcg: reuse per cgroup kmem caches", Nov 2014). A rolling window
// of short jobs, at most kWindow online at once, each in a new cgroup; a job
// allocates dentries and inodes of two shared caches, most of which it frees
// before it ends, while a few stay in the dcache (used by later jobs) and are
// reclaimed kKeptJobs jobs later. Davydov's claim: when the caches of a dead
// memcg go to the next one (its kmemcg_id is reused), the caches of one root
// never outnumber the memcgs that were online at once; where the caches of a
// removed memcg live as long as its objects (v5.2 until css_free, v5.3 until
// the reparented cache's last slab page is freed), "it is unlimited".
#include <cstdint>
#include <deque>
#include <vector>

#include <fmt/format.h>

#include "sim/machine.h"
#include "sim/workload.h"

namespace mv::sim {
namespace {

using spec::ObjKey;
using spec::PathKey;
using spec::TaskKey;

constexpr std::uint32_t kWindow = 8;            // jobs online at once, at most
constexpr std::uint32_t kObjectsPerJob = 24;    // dentries and inodes, half each
constexpr std::uint32_t kKeptPerJob = 2;        // left in the dcache when the job ends
constexpr std::uint32_t kKeptJobs = 100;        // jobs until a kept object is reclaimed
constexpr std::uint32_t kSampleEvery = 100;
constexpr double kJobSeconds = 60;

struct Job {
  PathKey cg = 0;
  TaskKey task = 0;
  std::vector<ObjKey> objects;  // freed when the job ends, but the kept ones
};

struct Kept {
  ObjKey obj = 0;
  std::uint32_t reclaim_at_job = 0;
};

class Seed003 {
 public:
  explicit Seed003(const SimOptions& options)
      : options_(options),
        machine_(spec::Config{options.profile, options.cpus, 4096}, options.record_trace) {
    result_.options = options;
  }

  SimResult run() {
    for (std::uint32_t i = 1; i <= options_.iterations; ++i) {
      machine_.set_clock(i * kJobSeconds);
      reclaim_until(i);
      if (running_.size() == kWindow) end_oldest();
      start(i);
      result_.jobs = i;
      if (i % kSampleEvery == 0 || i == options_.iterations) sample(i);
    }
    while (!running_.empty()) end_oldest();
    result_.final = measure_now();
    result_.ops = machine_.ops();
    return result_;
  }

 private:
  void start(std::uint32_t i) {
    Job job;
    job.cg = machine_.cgroup(fmt::format("/job_{}", i));
    machine_.mkdir(job.cg);
    job.task = machine_.spawn(job.cg, i % options_.cpus);
    for (std::uint32_t k = 0; k < kObjectsPerJob; ++k) {
      job.objects.push_back(machine_.alloc_slab(job.task, k % 2 ? kInodeCache : kDentryCache));
      // The first allocation of a cache queues the creation of the memcg's
      // cache (memcg_schedule_kmem_cache_create); the rest come from it.
      if (k < 2) machine_.settle();
    }
    running_.push_back(std::move(job));
    max_online_ = std::max<std::uint32_t>(max_online_, static_cast<std::uint32_t>(running_.size()));
    machine_.settle();
  }

  void end_oldest() {
    Job job = std::move(running_.front());
    running_.pop_front();
    const auto cpu = machine_.task_cpu(job.task);
    // The last objects stay: the first ones came from the root caches (before
    // the memcg's caches were created), uncharged.
    const std::size_t keep_from = job.objects.size() - kKeptPerJob;
    for (std::size_t k = 0; k < job.objects.size(); ++k) {
      if (k >= keep_from)
        kept_.push_back({job.objects[k], static_cast<std::uint32_t>(result_.jobs) + kKeptJobs});
      else
        machine_.free(job.objects[k], cpu);
    }
    machine_.exit(job.task);
    machine_.rmdir(job.cg);
    machine_.settle();
  }

  // The shrinker frees the dcache objects kept long enough (on CPU 0).
  void reclaim_until(std::uint32_t job) {
    while (!kept_.empty() && kept_.front().reclaim_at_job <= job) {
      machine_.free(kept_.front().obj, 0);
      kept_.pop_front();
    }
    machine_.settle();
  }

  Measure measure_now() {
    machine_.settle();
    Measure m = measure(machine_.state(), machine_.live(), options_.footprint);
    m.max_online = max_online_;
    return m;
  }

  void sample(std::uint32_t iteration) {
    result_.samples.push_back(iteration_sample(iteration * kJobSeconds, iteration, measure_now()));
  }

  SimOptions options_;
  Machine machine_;
  std::deque<Job> running_;
  std::deque<Kept> kept_;
  std::uint32_t max_online_ = 0;
  SimResult result_;
};

}  // namespace

SimResult run_seed003(const SimOptions& options) { return Seed003(options).run(); }

}  // namespace mv::sim
