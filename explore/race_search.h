// The race search of `memcg-verify explore --profile P` for the profiles the
// impl does not model (v5.2, v5.3, davydov-2014): they have no
// interleavable impl, only the reference, whose operations stop at the named
// preemption points of a race trace (docs/TRACE_FORMAT.md "Races"). So the
// search enumerates race traces instead of schedules: for a small program (a
// set-up, then one list of operations per CPU), every interleaving of the
// CPUs' operations at operation granularity (each CPU's in its program order),
// and in each, every way to preempt one operation at one of the points it
// reaches (and which hit of it), resumed after one or more of the other CPUs'
// operations that follow it. Each candidate is a plain race trace with a final
// quiesce, replayed on the reference (or an overlay mutant, overlay/overlay.h)
// with every invariant at every quiescent line; a candidate the trace rules
// refuse (an operation on the stopped one's CPU or object, a lock it holds) is
// infeasible and skipped. The enumeration is bounded (one preemption per
// schedule, at most kMaxHits hits of a point) and exhaustive within the bound,
// and deterministic: the order is fixed, the seed only draws the random
// programs. A failing trace is shrunk (operation lines dropped while it still
// fails the same way) and is itself the reproduction: `replay --model
// reference --mutant NAME` runs it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "properties/injected_fault.h"
#include "spec/mutant.h"
#include "spec/profile.h"
#include "trace/replay.h"

namespace mv::explore {

// A program as trace lines (JSON objects, no header): thread k runs on CPU k.
struct RaceProgram {
  std::string name;
  std::string about;
  spec::Config config;
  std::vector<std::string> setup;
  std::vector<std::vector<std::string>> threads;
};

// The built-in programs, on `profile`: seed 002's move-and-destroy race in
// miniature, and a free racing a removal.
std::vector<RaceProgram> race_programs(spec::Profile profile);
// A random program from `seed` ("random-SEED"): 2 CPUs, two cgroups with a
// task each and warm caches, 2 or 3 operations per CPU (alloc, free, migrate,
// rmdir, mkdir, drain, quiesce).
RaceProgram random_race_program(spec::Profile profile, std::uint64_t seed);

// The most hits of one point a schedule tries (a quiesce reaches
// after_work_dequeued once per item).
inline constexpr std::uint32_t kMaxHits = 3;

struct RaceFailure {
  std::string program;
  std::string kind;     // "violation", "model_failure", "disagreement", "data_race"
  std::string what;     // the invariant of a violation
  std::string message;
  std::size_t line = 0;  // of the trace
  std::string verdict;   // replay's
  std::string trace_jsonl;  // the (shrunk) race trace, header first
  std::size_t ops = 0, original_ops = 0;  // its operation lines, and before the shrink
  bool reproduces = false;  // the trace fails with the mutant and passes on the reference
};

struct RaceProgramStats {
  std::string name;
  std::uint64_t schedules = 0;   // traces replayed
  std::uint64_t infeasible = 0;  // candidates the trace rules refused
  bool complete = false;         // every candidate of the program was tried
};

struct RaceSearchOptions {
  spec::Profile profile = spec::Profile::v5_2;
  spec::Mutant mutant = spec::Mutant::none;  // none, or an overlay that applies to the profile
  std::uint64_t schedules = 10000;           // traces replayed, over all programs
  std::uint64_t seed = 1;
  std::uint64_t random_programs = 0;
  std::vector<RaceProgram> programs;  // empty: race_programs(profile)
  bool shrink = true;
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
  // Called with every race trace just before it is replayed (the candidates
  // and the shrink's tries), with its program's name: the guard keeps the
  // last one, so that a trace that takes the process down is reported with
  // that trace (explore/explore_guard.h, run_watched_race_command).
  std::function<void(const std::string& program, const std::string& trace_jsonl)> before_replay;
  // Internal, testing the guard: the reference does what a broken model does
  // on the first operation of every replay (properties/injected_fault.h).
  properties::InjectedFault fault = properties::InjectedFault::none;
};

struct RaceSearchResult {
  std::uint64_t schedules = 0;  // replayed, up to and including the failing one
  std::uint64_t infeasible = 0;
  std::uint64_t schedule_of_failure = 0;  // 1-based; 0 without a failure
  double seconds = 0;
  std::optional<RaceFailure> failure;
  std::vector<RaceProgramStats> programs;
  bool search_complete = false;  // every program's candidates were all tried
};

RaceSearchResult race_search(const RaceSearchOptions& options);

// Replays a race trace (JSON Lines text) on the reference, with `mutant` in
// its seat when it is an overlay.
trace::ReplayResult replay_race(const std::string& jsonl, spec::Mutant mutant);

}  // namespace mv::explore
