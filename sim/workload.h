// A simulation run: one workload on the reference model of one profile, from
// a seed, sampled as it goes. The workloads (docs/SIMULATE.md) are the same
// for every profile; what differs between profiles comes from the models.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "sim/footprint.h"
#include "spec/profile.h"

namespace mv::sim {

enum class Workload : std::uint8_t {
  seed000,  // periodic jobs in new cgroups sharing the VFS caches (seed 000)
  seed004,  // the kernel-stack loop of seed 004
  kmem_dead,  // the kselftest test_kmem_dead_cgroups idea (live's prediction)
  seed003,  // a rolling window of jobs: per-memcg kmem caches against Davydov's bound
};

std::string_view workload_name(Workload workload);
std::optional<Workload> parse_workload(std::string_view name);
inline constexpr std::string_view kWorkloadNames = "seed000, seed004, kmem_dead, seed003";

struct SimOptions {
  spec::Profile profile = spec::Profile::v6_6;
  Workload workload = Workload::seed000;
  std::uint32_t days = 7;           // seed000
  std::uint32_t iterations = 500;   // seed004: loop iterations; kmem_dead: children; seed003: jobs
  std::uint64_t seed = 1;
  std::uint32_t cpus = 8;           // possible CPUs of the model (and of the estimate)
  MemcgFootprint footprint;
  // Record the model's operations: a SimError then carries the trace of the
  // run up to its failure (sim/machine.h).
  bool record_trace = false;
};

struct Sample {
  double day = 0;                         // simulated time, in days from the start
  std::optional<std::uint32_t> iteration;  // seed004: loop iterations done
  std::uint64_t jobs = 0;                  // jobs (seed000) or iterations run so far
  Measure measure;
};

// The sample of a workload counted in iterations (seed004, kmem_dead,
// seed003): `iteration` iterations done at `now_seconds` of simulated time.
Sample iteration_sample(double now_seconds, std::uint32_t iteration, const Measure& measure);

struct SimResult {
  SimOptions options;
  std::vector<Sample> samples;  // seed000: one per day; seed004, seed003: one per 100 iterations
  Measure final;                // at the end of the run
  // seed004: once every `sleep` of the loop has exited (an hour later).
  std::optional<Measure> after_exit;
  std::uint64_t ops = 0;        // model operations applied
  std::uint64_t jobs = 0;
};

// Runs a workload. std::invalid_argument for a profile without a reference
// model; SimError if the model refuses or fails.
SimResult simulate(const SimOptions& options);

SimResult run_seed000(const SimOptions& options);
SimResult run_seed004(const SimOptions& options);
SimResult run_kmem_dead(const SimOptions& options);
SimResult run_seed003(const SimOptions& options);

}  // namespace mv::sim
