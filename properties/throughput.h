// Checked-step throughput at a given number of live objects: both models, the
// snapshot comparison and every invariant on every step, as in a campaign
// (`memcg-verify check --bench-live`). The set-up that grows the population is
// checked too but not timed; then the timed steps keep the live objects near
// the target (allocations and frees balance) with the rest of the op mix,
// less mkdir and rmdir (freed memcgs stay listed in snapshots: cgroup churn
// would make the cost per step grow with the run's length instead).
#pragma once

#include <cstdint>
#include <vector>

#include "properties/conformance.h"

namespace mv::properties {

struct ThroughputPoint {
  std::uint64_t target_live_objects = 0;
  double mean_live_objects = 0;  // over the timed steps
  std::uint64_t steps = 0;       // timed steps that ran (skipped recipes excluded)
  std::uint64_t memcgs = 0;      // memcgs in the snapshots (freed ones stay listed)
  std::uint64_t objcgs = 0;
  double seconds = 0;
  double steps_per_second() const { return seconds > 0 ? steps / seconds : 0; }
  double micros_per_step() const { return steps > 0 ? seconds * 1e6 / steps : 0; }
  bool failed = false;  // a conformance failure stopped it (a bug: report it)
  std::string failure;
};

// `steps` timed steps at each target, on `config`, from `seed`.
std::vector<ThroughputPoint> measure_throughput(const spec::Config& config, std::uint64_t seed,
                                                const std::vector<std::uint64_t>& targets,
                                                std::uint64_t steps,
                                                CheckMode mode = CheckMode::summary,
                                                const ModelFactory& subject = impl_factory(),
                                                bool monitor_subject = false);

}  // namespace mv::properties
