// explore under a guard (issue 12 item 7, for explore): the impl it
// interleaves cannot take memcg-verify down. Whatever the impl does in a
// schedule (segfaults, aborts, loops without reaching a scheduling point),
// explore ends in a failure of kind "model_failure" whose schedule token
// names the schedule it happened in, never in a signal or a hang.
//
// How: the command runs in a child process the parent watches
// (properties/watched_child.h), beating at every scheduling decision; the
// child's standard output is kept and passed on when it ends normally, so
// a run where nothing goes wrong costs one fork. When the child dies or
// stands still, the parent explores again from the same seed with every
// schedule first run in a child of its own (ExploreOptions::
// isolate_schedules): the schedules before the failing one pass again, the
// failing one is a model failure, reported like any failure but not shrunk
// (every try would crash again). A replay (`explore --replay TOKEN`) needs
// no second run: the choices of the schedule running are kept in shared
// memory (ScheduleSink), so the parent knows them when the child dies.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "explore/explore.h"
#include "explore/race_search.h"
#include "explore/schedule_sink.h"

namespace mv::explore {

// How a guarded body ended: normally (its exit code; its standard output
// has been printed) or not (what happened, and the schedule running then).
struct GuardedEnd {
  bool crashed = false;
  int exit_code = 0;
  std::string what;  // "was killed by signal 11 (Segmentation fault)"
  Schedule schedule;
  std::uint64_t decisions = 0, preemptions = 0;
};

// Runs `body`, which prints to std::cout, in a watched child (or here, when
// there is no fork). What `body` throws is thrown here again, as a
// std::runtime_error with its message: an error of the tool, not a crash.
GuardedEnd run_watched_command(const std::function<int()>& body, double watchdog_seconds);

// The race search (explore --profile, explore/race_search.h) under the same
// guard: `body` runs the search with the hook it is given as
// RaceSearchOptions::before_replay, which keeps each race trace in shared
// memory before it is replayed. When the reference (an overlay mutant, a
// broken model) takes the child down, the last trace kept is the one that
// did it, and the end says so.
struct RaceGuardedEnd {
  bool crashed = false;
  int exit_code = 0;
  std::string what;           // as GuardedEnd's
  std::string program;        // of the trace running then
  std::string trace_jsonl;    // the trace running then (whole, unless truncated)
  bool truncated = false;     // longer than the shared buffer: cut there
  std::uint64_t replays = 0;  // traces handed to the hook, that one included
};
using RaceReplayHook = std::function<void(const std::string& program, const std::string& trace_jsonl)>;
RaceGuardedEnd run_watched_race_command(const std::function<int(const RaceReplayHook&)>& body,
                                        double watchdog_seconds);

// The failure of a schedule its impl did not survive.
Failure crash_failure(const Harness& harness, spec::Mutant mutant, const std::string& what,
                      const Schedule& schedule, std::uint64_t decisions, std::uint64_t preemptions);

// Runs the schedule the strategy gives next in a child of its own first:
// nothing when the impl survived it (the caller then runs it here, to the
// same result: the strategy and the scheduler are the child's copies), else
// its failure. The strategy is not advanced.
std::optional<Failure> crash_of_next_schedule(const PreparedHarness& h, spec::Mutant mutant,
                                              Strategy& strategy, Scheduler& scheduler,
                                              std::size_t max_linearize_ops, double watchdog_seconds,
                                              SharedScheduleSink& sink);

}  // namespace mv::explore
