// memcg-verify explore: interleavings of the impl's hooks build explored,
// checked, replayed and shrunk (issue 9; as awslabs/shuttle and tokio-rs/loom
// do for Rust). For every schedule of every harness:
//  - at every quiescent point (no CPU inside an operation) and at the end,
//    before and after a final quiesce: every invariant of the spec, which
//    covers the events a model records during the run (use of a freed memcg
//    or released objcg, a refcount below zero, a page_counter underflow
//    WARN, a NULL dereference);
//  - during the run: a data race on the impl's plain accesses, a deadlock,
//    a model that throws;
//  - at the end: linearizability against the reference (explore/linearize.h).
// A failure is shrunk (fewer operations, fewer preemptions), given a schedule
// token (`explore --replay TOKEN` reruns it exactly) and written as a race
// trace whose preemptions are at named points, so that `replay` reproduces it
// on both models.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "explore/harness.h"
#include "explore/scheduler.h"
#include "explore/strategy.h"
#include "properties/injected_fault.h"
#include "reference/kernel_state.h"
#include "spec/mutant.h"

namespace mv::explore {

struct Failure {
  std::string harness;
  std::string kind;     // "violation", "data_race", "deadlock", "model_failure", "linearizability"
  std::string what;     // the invariant of a violation
  std::string message;
  std::size_t step = 0;  // the scheduling point it was seen at
  // After shrinking: the token, the operations of the threads and the
  // preemptions of the schedule; and the same before.
  std::string token;
  std::size_t ops = 0, preemptions = 0;
  std::string original_token;
  std::size_t original_ops = 0, original_preemptions = 0;
  // A race trace (preemptions at named points) when the schedule could be
  // put that way, else the operations in the order they ran with the token.
  std::string trace_jsonl;
  bool race_trace = false;
  bool trace_reproduces = false;  // `replay --model both --mutant M` fails on it
  std::string trace_verdict;      // what that replay said
};

// One schedule of one harness, checked by every oracle.
struct ScheduleResult {
  RunRecord run;
  std::optional<Failure> failure;
  bool step_limited = false;
  bool pruned = false;  // the search's sleep sets cut it: it repeats an explored one
  bool linearizability_checked = false;
  // The profile's known kernel bugs (spec/known_bug.h) that explained a
  // violation in this schedule: reported, not failed.
  std::set<std::string> known_bugs;
};

// A harness with what every schedule of it needs, computed once.
struct PreparedHarness {
  Harness harness;
  std::vector<std::vector<spec::Op>> threads;
  reference::Kernel reference_setup;  // the reference after the set-up
  // Set in explore(): the impl breaks on its first operation after the
  // set-up (explore --inject-fault, to test the guard: explore_guard.h).
  properties::InjectedFault fault = properties::InjectedFault::none;
};
PreparedHarness prepare(Harness harness);

ScheduleResult run_schedule(const PreparedHarness& h, spec::Mutant mutant, Strategy& strategy,
                            Scheduler& scheduler, std::size_t max_linearize_ops);

struct ExploreOptions {
  StrategyOptions strategy;
  std::uint64_t schedules = 1000;  // over all harnesses
  spec::Mutant mutant = spec::Mutant::none;
  std::vector<Harness> harnesses;  // empty: the catalog
  std::uint64_t random_harnesses = 0;  // more harnesses: random_harness(seed + i)
  std::size_t max_linearize_ops = 12;  // longer histories are not linearized
  std::size_t max_steps = 200000;      // scheduling points per schedule
  bool shrink = true;
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
  // Every schedule first in a child process of its own, so that one the
  // impl does not survive is a model failure (explore/explore_guard.h).
  bool isolate_schedules = false;
  double watchdog_seconds = 30;  // a child with no scheduling decision for this long: stopped
  properties::InjectedFault fault = properties::InjectedFault::none;
};

struct HarnessStats {
  std::string name;
  std::uint64_t schedules = 0;
  bool complete = false;  // dfs: the bounded search of this harness finished
};

struct ExploreResult {
  std::uint64_t schedules = 0;  // run, up to and including the failing one
  double seconds = 0;
  std::optional<Failure> failure;
  std::uint64_t schedule_of_failure = 0;  // 1-based, 0 without a failure
  std::vector<HarnessStats> harnesses;
  bool search_complete = false;  // dfs: every harness's bounded search finished
  std::uint64_t step_limited = 0;
  std::uint64_t pruned = 0;
  std::uint64_t linearizability_checked = 0;
  // Known kernel bugs seen (a violation the harness's profile documents as
  // its kernel's), by id: in how many schedules, and the first one's token.
  struct KnownBugSeen {
    std::uint64_t schedules = 0;
    std::string harness;
    std::string token;
  };
  std::map<std::string, KnownBugSeen> known_bugs;
};

ExploreResult explore(const ExploreOptions& options);

// Schedule tokens: "mvx1:HARNESS:MUTANT:T*N,T*N,...", thread T for N
// scheduling points in a row.
std::string schedule_token(std::string_view harness, spec::Mutant mutant, const Schedule& schedule);
struct Token {
  std::string harness;
  spec::Mutant mutant = spec::Mutant::none;
  Schedule schedule;
};
std::optional<Token> parse_token(std::string_view token);
// Runs the token's schedule again; throws std::invalid_argument for an
// unknown harness.
ScheduleResult replay_token(const Token& token, std::size_t max_linearize_ops = 12,
                            properties::InjectedFault fault = properties::InjectedFault::none);
// What a schedule did, one line per operation start, named point and switch.
std::string schedule_log(const Harness& harness, const RunRecord& run);

}  // namespace mv::explore
