// A replay whose subject cannot take the checker down (issue 12 item 7): the
// replay runs in a child process that reports its progress through shared
// memory. If the child dies (a model that crashes or aborts) or stops making
// progress (a model that loops: no step for `step_timeout_seconds`), the
// parent replays the lines before the one it died on again, in-process, and
// reports a model failure at that line: the trace up to it, exit 1, with the
// report (text or --json) of everything before it. A model that throws is a
// model failure already (trace/replay.cc), with no child needed for it.
#pragma once

#include <functional>
#include <string>

#include "trace/replay.h"
#include "trace/snapshot_json.h"
#include "trace/trace_reader.h"

namespace mv::trace {

struct Isolation {
  double step_timeout_seconds = 10;  // no step of a correct model comes near it
};

// run(trace, progress) replays (trace::replay or replay_models, passing
// `progress`); report(result) prints the report and returns the exit status.
// Both run in the child; after a crash or a hang, in this process, on the
// lines before. Returns the exit status. Without fork(), runs in-process.
int run_isolated(const Trace& trace,
                 const std::function<ReplayResult(const Trace&, ReplayProgress*)>& run,
                 const std::function<int(const ReplayResult&)>& report, ModelChoice label,
                 Isolation isolation = {});

// What an isolated replay hands back to a caller that judges it (scenarios):
// its exit status, verdict line and --json report, as the child computed them
// or, after a crash or a hang, as run_isolated reports the model failure.
struct IsolatedReport {
  int exit = 0;
  std::string verdict;
  Json report;  // report_json (trace/report.h)
};
IsolatedReport replay_isolated(const Trace& trace,
                               const std::function<ReplayResult(const Trace&, ReplayProgress*)>& run,
                               ModelChoice label, Isolation isolation = {});

}  // namespace mv::trace
