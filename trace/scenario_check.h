// Bundled scenarios: scenarios/NAME.jsonl is a trace, scenarios/NAME.expect.json
// what its replay must give (docs/TRACE_FORMAT.md "Scenarios"):
//   {"about": "why, in words (ignored)",
//    "exit": 0,                                   // replay's exit status
//    "checks": {"/cgroups/1/usage_pages": 64},    // JSON pointer -> value in the --json report
//    "violations": ["INV-LIMIT"],                 // optional: exactly these invariant ids fire
//                                                 // (violations no known kernel bug explains)
//    "known_bugs": ["hotplug_obj_stock_leak"],    // exactly these known bugs explain violations
//                                                 // (absent: none may)
//    "error": {"line": 7, "contains": "unknown op"}}  // optional: the trace error expected
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "trace/isolated_replay.h"
#include "trace/replay.h"
#include "trace/snapshot_json.h"

namespace mv::trace {

struct Expectation {
  int exit = 0;
  std::vector<std::pair<std::string, Json>> checks;  // JSON pointer, expected value
  std::optional<std::vector<std::string>> violations;
  std::vector<std::string> known_bugs;  // absent from the file: none
  std::optional<std::size_t> error_line;
  std::optional<std::string> error_contains;
};

// Throws std::invalid_argument saying what is wrong with the expectation.
Expectation parse_expectation(const Json& doc);
Expectation read_expectation_file(const std::filesystem::path& path);

// Every way `report` (replay --json output, with exit status `exit`) misses
// `expect`; empty when it meets it.
std::vector<std::string> expectation_mismatches(const Expectation& expect, int exit,
                                                const Json& report);

struct ScenarioFiles {
  std::string name;
  std::filesystem::path trace;
  std::filesystem::path expect;  // NAME.expect.json (it may be missing: a mismatch)
};

// Every DIR/*.jsonl, sorted by name.
std::vector<ScenarioFiles> find_scenarios(const std::filesystem::path& dir);

struct ScenarioOutcome {
  std::string name;
  int expected_exit = 0;
  int exit = 0;
  std::size_t nr_checks = 0;
  std::vector<std::string> mismatches;
  std::string verdict;  // the replay's verdict line
  // Why the scenario was not run on the kernel model (empty: it was run).
  std::string skipped;
  bool passed() const { return mismatches.empty(); }
};

// Empty when a scenario of `scenario` profile speaks about the kernel model's
// tree (profile `tree`), else why not: a scenario pins what a kernel with its
// profile's known bugs does, and a tree with other known bugs (it has a fix
// the scenario's kernel lacks, or the other way round) does something else
// there by construction.
std::string kernel_scenario_mismatch(spec::Profile scenario, spec::Profile tree);

// Replays one scenario in a child process (trace/isolated_replay.h: a model
// that crashes, aborts or loops fails the scenario with a model failure at its
// line, and the next scenario runs) and checks it. `kernel` is the kernel
// model of the kernel choices (default: the build's default tree). A scenario
// whose profile's known bugs are not the tree's is skipped
// (kernel_scenario_mismatch). `run`, when given, replays instead of the
// models of `choice` (tests pass their own models).
using ScenarioReplay = std::function<ReplayResult(const Trace&, ReplayProgress*)>;
ScenarioOutcome run_scenario(const ScenarioFiles& files, ModelChoice choice,
                             std::shared_ptr<const kernel::KernelSubject> kernel = nullptr,
                             const ScenarioReplay& run = {}, Isolation isolation = {});

}  // namespace mv::trace
