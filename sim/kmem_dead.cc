// The kselftest test_kmem_dead_cgroups idea as a workload (tools/testing/
// selftests/cgroup/test_kmem.c): N children of one parent; in each, a process
// (forked in the parent, so its kernel stack is charged there, then moved into
// the child) looks up 100 names that do not exist, leaving negative dentries
// with external names charged to the child, and exits; the child is removed.
// The test wants no dying descendant left once the kernel settled.
// `live` runs the same on the running kernel (live/experiments.h); this is the
// model's prediction for it.
#include <cstdint>
#include <vector>

#include <fmt/format.h>

#include "sim/machine.h"
#include "sim/workload.h"

namespace mv::sim {
namespace {

constexpr std::uint32_t kDentriesPerChild = 100;

}  // namespace

SimResult run_kmem_dead(const SimOptions& options) {
  SimResult result;
  result.options = options;
  Machine machine(spec::Config{options.profile, options.cpus, 4096}, options.record_trace);
  const auto parent = machine.cgroup("/kmem_dead_cgroups_test");
  machine.mkdir(parent);
  std::vector<spec::ObjKey> dcache;  // the negative dentries outlive their processes
  for (std::uint32_t i = 0; i < options.iterations; ++i) {
    machine.set_clock(i);
    const auto child = machine.cgroup(fmt::format("/kmem_dead_cgroups_test/child_{}", i));
    machine.mkdir(child);
    const auto cpu = i % options.cpus;
    const auto task = machine.spawn(parent, cpu);
    const auto stack = machine.alloc_stack(task);
    machine.migrate(task, child);
    for (std::uint32_t d = 0; d < kDentriesPerChild; ++d) {
      dcache.push_back(machine.alloc_slab(task, kDentryCache));
      dcache.push_back(machine.alloc_slab(task, kExternalNameCache));
    }
    machine.free(stack, cpu);
    machine.exit(task);
    machine.rmdir(child);
    machine.settle();
  }
  result.samples.push_back(iteration_sample(options.iterations, options.iterations,
                                            measure(machine.state(), machine.live(), options.footprint)));
  result.final = result.samples.back().measure;
  result.jobs = options.iterations;
  result.ops = machine.ops();
  return result;
}

}  // namespace mv::sim
