#include "sim/workload.h"

#include <stdexcept>

namespace mv::sim {

std::string_view workload_name(Workload workload) {
  switch (workload) {
    case Workload::seed000: return "seed000";
    case Workload::seed004: return "seed004";
    case Workload::kmem_dead: return "kmem_dead";
    case Workload::seed003: return "seed003";
  }
  throw std::logic_error("unknown workload");
}

std::optional<Workload> parse_workload(std::string_view name) {
  for (auto w : {Workload::seed000, Workload::seed004, Workload::kmem_dead, Workload::seed003})
    if (workload_name(w) == name) return w;
  return std::nullopt;
}

Sample iteration_sample(double now_seconds, std::uint32_t iteration, const Measure& measure) {
  Sample s;
  s.day = now_seconds / 86400;
  s.iteration = iteration;
  s.jobs = iteration;
  s.measure = measure;
  return s;
}

SimResult simulate(const SimOptions& options) {
  switch (options.workload) {
    case Workload::seed000: return run_seed000(options);
    case Workload::seed004: return run_seed004(options);
    case Workload::kmem_dead: return run_kmem_dead(options);
    case Workload::seed003: return run_seed003(options);
  }
  throw std::logic_error("unknown workload");
}

}  // namespace mv::sim
