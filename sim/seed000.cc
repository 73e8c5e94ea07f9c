// The seed 000 workload: periodic jobs, each run in a new cgroup as systemd
// runs a timer's service, on a machine whose VFS caches every generation of
// every job shares. docs/SIMULATE.md states it; the numbers below are its
// parameters, the same for every profile.
#include <cstdint>
#include <queue>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sim/machine.h"
#include "sim/rng.h"
#include "sim/workload.h"

namespace mv::sim {
namespace {

using spec::Cpu;
using spec::ObjKey;
using spec::PathKey;
using spec::TaskKey;

constexpr double kHour = 3600;
constexpr double kDay = 86400;

struct Params {
  // Timer units; unit k runs every period_k, spread evenly from 10 min to 2 h,
  // each start delayed by up to a minute (systemd's default AccuracySec=1min).
  std::uint32_t services = 24;
  double min_period_s = 600;
  double max_period_s = 7200;
  double accuracy_s = 60;
  // A run lasts 20 s to 5 min, with 1 to 3 processes.
  double min_run_s = 20;
  double max_run_s = 300;
  std::uint32_t max_tasks = 3;
  // The files of the shared filesystem (libraries, configuration, data):
  // a run looks up `bursts * lookups_per_burst` of them, by a Zipf(1) law of
  // popularity. A lookup of a file not in the dentry cache allocates its
  // dentry and inode, charged to the run's cgroup; a lookup of a cached file
  // only marks it referenced (it is used by a later generation).
  std::uint32_t files = 20000;
  double zipf_exponent = 1.0;
  std::uint32_t bursts = 4;
  std::uint32_t lookups_per_burst = 50;
  // Files only one run ever uses (its logs, its temporary files): created in
  // its last burst, never looked up again.
  std::uint32_t own_files_per_run = 2;
  // Reclaim, once an hour (the shrinkers of a moderately pressed machine): a
  // cached file referenced since the last pass loses its mark (the LRU's
  // second chance); one that was not is freed with this probability. Moderate
  // means an unreferenced file lives about a day (3% an hour): at 25% an hour
  // the v5.2 curve flattened within the first day (640 to 761 dying in 7
  // days), which is heavy pressure, not the seed's moderate one.
  double reclaim_fraction = 0.03;
  // Per run: percpu memory (the mount of its private /tmp: mnt_pcp) and a pipe
  // buffer page between its processes, both freed when it ends.
  std::uint32_t percpu_size_bytes = 16;
};

struct CachedFile {
  bool cached = false;
  ObjKey dentry = 0;
  ObjKey inode = 0;
  bool referenced = true;
};

struct Job {
  PathKey cg = 0;
  std::vector<TaskKey> tasks;
  std::vector<ObjKey> stacks;
  ObjKey percpu = 0;
  ObjKey pipe_page = 0;
  std::uint32_t bursts_done = 0;
};

enum class EventKind : std::uint8_t { service_start, burst, job_end, reclaim, sample };

struct Event {
  double time = 0;
  EventKind kind = EventKind::sample;
  std::uint64_t seq = 0;  // queueing order: ties between equal times
  std::uint32_t subject = 0;
  // Earliest first; at one instant, jobs and reclaim before the sample.
  bool operator>(const Event& other) const {
    if (time != other.time) return time > other.time;
    bool sample = kind == EventKind::sample, other_sample = other.kind == EventKind::sample;
    if (sample != other_sample) return sample;
    return seq > other.seq;
  }
};

class Seed000 {
 public:
  explicit Seed000(const SimOptions& options)
      : options_(options),
        machine_(spec::Config{options.profile, options.cpus, 4096}, options.record_trace),
        rng_(options.seed),
        popularity_(params_.files, params_.zipf_exponent) {
    result_.options = options;
  }

  SimResult run() {
    slice_ = machine_.cgroup("/system.slice");
    machine_.mkdir(slice_);
    for (std::uint32_t k = 0; k < params_.services; ++k) {
      service_paths_.push_back(machine_.cgroup(fmt::format("/system.slice/timer-{}.service", k)));
      push(rng_.unit() * period(k), EventKind::service_start, k);
    }
    for (std::uint32_t h = 1; h <= options_.days * 24; ++h) push(h * kHour, EventKind::reclaim, 0);
    for (std::uint32_t d = 1; d <= options_.days; ++d) push(d * kDay, EventKind::sample, d);
    const double end = options_.days * kDay;
    while (!events_.empty() && events_.top().time <= end) {
      Event e = events_.top();
      events_.pop();
      machine_.set_clock(e.time);
      dispatch(e);
    }
    result_.final = result_.samples.empty() ? Measure{} : result_.samples.back().measure;
    result_.ops = machine_.ops();
    return result_;
  }

 private:
  double period(std::uint32_t k) const {
    if (params_.services == 1) return params_.min_period_s;
    return params_.min_period_s +
           (params_.max_period_s - params_.min_period_s) * k / (params_.services - 1);
  }

  void push(double time, EventKind kind, std::uint32_t subject) {
    events_.push(Event{time, kind, seq_++, subject});
  }

  void dispatch(const Event& e) {
    switch (e.kind) {
      case EventKind::service_start: start_job(e.subject, e.time); break;
      case EventKind::burst: burst(e.subject); break;
      case EventKind::job_end: end_job(e.subject); break;
      case EventKind::reclaim: reclaim(); break;
      case EventKind::sample: sample(e.subject); break;
    }
  }

  Cpu any_cpu() { return static_cast<Cpu>(rng_.below(options_.cpus)); }

  // systemd starts the service: a new cgroup, its processes (each forked with
  // a kernel stack charged there), the run's percpu and pipe memory.
  void start_job(std::uint32_t service, double now) {
    push(now + period(service) + rng_.unit() * params_.accuracy_s, EventKind::service_start,
         service);
    Job job;
    job.cg = service_paths_[service];
    machine_.mkdir(job.cg);
    auto nr_tasks = static_cast<std::uint32_t>(rng_.between(1, params_.max_tasks));
    for (std::uint32_t i = 0; i < nr_tasks; ++i) {
      TaskKey task = machine_.spawn(job.cg, any_cpu());
      job.tasks.push_back(task);
      job.stacks.push_back(machine_.alloc_stack(task));
    }
    job.percpu = machine_.alloc_percpu(job.tasks[0], params_.percpu_size_bytes);
    job.pipe_page = machine_.alloc_page(job.tasks[0], 0);
    machine_.settle();
    auto id = static_cast<std::uint32_t>(jobs_.size());
    jobs_.push_back(std::move(job));
    result_.jobs += 1;
    double run_s = params_.min_run_s + rng_.unit() * (params_.max_run_s - params_.min_run_s);
    for (std::uint32_t b = 1; b <= params_.bursts; ++b)
      push(now + run_s * b / (params_.bursts + 1), EventKind::burst, id);
    push(now + run_s, EventKind::job_end, id);
  }

  void lookup(TaskKey task, std::uint64_t file) {
    if (file >= files_.size()) files_.resize(file + 1);
    CachedFile& f = files_[file];
    if (f.cached) {
      f.referenced = true;
      return;
    }
    f = CachedFile{true, machine_.alloc_slab(task, kDentryCache),
                   machine_.alloc_slab(task, kInodeCache), true};
  }

  void burst(std::uint32_t id) {
    Job& job = jobs_[id];
    TaskKey task = job.tasks[job.bursts_done % job.tasks.size()];
    for (std::uint32_t i = 0; i < params_.lookups_per_burst; ++i)
      lookup(task, popularity_.draw(rng_));
    if (++job.bursts_done == params_.bursts)
      for (std::uint32_t i = 0; i < params_.own_files_per_run; ++i)
        lookup(task, params_.files + next_own_file_++);
    machine_.settle();
  }

  // The run ends: its processes exit (their stacks go), its private mount and
  // pipe go, and systemd removes the cgroup. The files it cached stay.
  void end_job(std::uint32_t id) {
    Job& job = jobs_[id];
    machine_.free(job.percpu, machine_.task_cpu(job.tasks[0]));
    machine_.free(job.pipe_page, machine_.task_cpu(job.tasks[0]));
    for (std::size_t i = 0; i < job.tasks.size(); ++i) {
      machine_.free(job.stacks[i], machine_.task_cpu(job.tasks[i]));
      machine_.exit(job.tasks[i]);
    }
    machine_.rmdir(job.cg);
    machine_.settle();
    job = Job{};  // its memory is the model's now
  }

  void reclaim() {
    for (CachedFile& f : files_) {
      if (!f.cached) continue;
      if (f.referenced) {
        f.referenced = false;
      } else if (rng_.chance(params_.reclaim_fraction)) {
        Cpu cpu = any_cpu();
        machine_.free(f.dentry, cpu);
        machine_.free(f.inode, cpu);
        f = CachedFile{};
      }
    }
    machine_.settle();
  }

  void sample(std::uint32_t day) {
    machine_.settle();
    Sample s;
    s.day = day;
    s.jobs = result_.jobs;
    s.measure = measure(machine_.state(), machine_.live(), options_.footprint);
    result_.samples.push_back(s);
  }

  SimOptions options_;
  Params params_;
  Machine machine_;
  Rng rng_;
  Zipf popularity_;
  PathKey slice_ = 0;
  std::vector<PathKey> service_paths_;
  std::vector<Job> jobs_;
  std::vector<CachedFile> files_;  // by file: the shared ones, then each run's own
  std::uint64_t next_own_file_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  std::uint64_t seq_ = 0;
  SimResult result_;
};

}  // namespace

SimResult run_seed000(const SimOptions& options) { return Seed000(options).run(); }

}  // namespace mv::sim
