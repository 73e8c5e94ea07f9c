// The seed 004 workload: Muchun Song's script, as the shell runs it.
//
//   for i in range{1..500}; do
//     mkdir kmem_test
//     echo $$ > kmem_test/cgroup.procs
//     sleep 3600 &
//     echo $$ > cgroup.procs
//     echo `cat kmem_test/cgroup.procs` > cgroup.procs
//     rmdir kmem_test
//   done
//
// The fork of `sleep` runs in the shell while the shell is in kmem_test
// (copy_process -> dup_task_struct: the task_struct and the kernel stack are
// allocated in the parent's context, so charged to kmem_test); both processes
// then move out and kmem_test is removed. memory.move_charge_at_immigrate
// moves user pages, which the models do not have, so it is not modeled. An
// iteration takes a simulated second; every `sleep` exits an hour after it
// started, freeing its stack and task_struct.
#include <cstdint>
#include <deque>

#include "sim/machine.h"
#include "sim/workload.h"

namespace mv::sim {
namespace {

using spec::ObjKey;
using spec::TaskKey;

constexpr double kIterationSeconds = 1;
constexpr double kSleepSeconds = 3600;
constexpr std::uint32_t kSampleEvery = 100;

struct Sleeper {
  TaskKey task = 0;
  ObjKey stack = 0;
  ObjKey task_struct = 0;
  double exit_time = 0;
};

class Seed004 {
 public:
  explicit Seed004(const SimOptions& options)
      : options_(options), machine_(spec::Config{options.profile, options.cpus, 4096}, options.record_trace) {
    result_.options = options;
  }

  SimResult run() {
    const auto root = machine_.cgroup("/");
    const auto kmem_test = machine_.cgroup("/kmem_test");
    const TaskKey shell = machine_.spawn(root, 0);
    for (std::uint32_t i = 1; i <= options_.iterations; ++i) {
      double now = i * kIterationSeconds;
      exit_sleepers_until(now);
      machine_.set_clock(now);
      machine_.mkdir(kmem_test);
      machine_.migrate(shell, kmem_test);
      // sleep 3600 &: the fork, in the shell's context.
      Sleeper s;
      s.stack = machine_.alloc_stack(shell);
      s.task_struct = machine_.alloc_slab(shell, kTaskStructCache);
      s.task = machine_.spawn(kmem_test, i % options_.cpus);
      s.exit_time = now + kSleepSeconds;
      sleepers_.push_back(s);
      machine_.migrate(shell, root);
      machine_.migrate(s.task, root);
      machine_.rmdir(kmem_test);
      machine_.settle();
      result_.jobs = i;
      if (i % kSampleEvery == 0 || i == options_.iterations) sample(now, i);
    }
    result_.final = measure_now();
    exit_sleepers_until(options_.iterations * kIterationSeconds + kSleepSeconds);
    result_.after_exit = measure_now();
    result_.ops = machine_.ops();
    return result_;
  }

 private:
  // sleep exits: its stack and task_struct are freed on its CPU.
  void exit_sleepers_until(double now) {
    while (!sleepers_.empty() && sleepers_.front().exit_time <= now) {
      Sleeper s = sleepers_.front();
      sleepers_.pop_front();
      machine_.set_clock(s.exit_time);
      auto cpu = machine_.task_cpu(s.task);
      machine_.free(s.stack, cpu);
      machine_.free(s.task_struct, cpu);
      machine_.exit(s.task);
      machine_.settle();
    }
  }

  Measure measure_now() {
    machine_.settle();
    return measure(machine_.state(), machine_.live(), options_.footprint);
  }

  void sample(double now, std::uint32_t iteration) {
    result_.samples.push_back(iteration_sample(now, iteration, measure_now()));
  }

  SimOptions options_;
  Machine machine_;
  std::deque<Sleeper> sleepers_;
  SimResult result_;
};

}  // namespace

SimResult run_seed004(const SimOptions& options) { return Seed004(options).run(); }

}  // namespace mv::sim
