#include "explore/explore_guard.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "properties/watched_child.h"

namespace mv::explore {

namespace {

// The child's report: its exit code, a newline, then what it printed; or
// "E", a newline and the message of what it threw (the tool's own error,
// such as a trace that cannot be written: the parent throws it again, it is
// no failure of the impl).
std::string guarded_report(const std::function<int()>& body) {
  std::ostringstream kept;
  auto* printed = std::cout.rdbuf(kept.rdbuf());
  std::string report;
  try {
    const int code = body();
    report = fmt::format("{}\n{}", code, kept.str());
  } catch (const std::exception& e) {
    report = fmt::format("E\n{}", e.what());
  }
  std::cout.rdbuf(printed);
  return report;
}

// Runs `body` in a child watched through `beats` (`in_child` first, there).
// Its exit code when it ended normally (what it printed is printed here);
// nullopt when it did not (`what` says how). With no pipe or fork, `body`
// runs here, unguarded.
std::optional<int> run_reporting_child(const std::function<int()>& body, const std::function<void()>& in_child,
                                       std::atomic<std::uint64_t>& beats, double watchdog_seconds,
                                       std::string& what) {
  properties::ChildEnd end;
  try {
    end = properties::run_watched(
        [&] {
          in_child();
          return guarded_report(body);
        },
        beats, watchdog_seconds);
  } catch (const std::runtime_error&) {
    return body();  // no pipe or fork: unguarded
  }
  if (end.reported && end.report.rfind("E\n", 0) == 0) throw std::runtime_error(end.report.substr(2));
  if (end.reported) {
    const auto newline = end.report.find('\n');
    int code = 0;
    if (newline != std::string::npos &&
        std::from_chars(end.report.data(), end.report.data() + newline, code).ec == std::errc()) {
      std::cout << end.report.substr(newline + 1) << std::flush;
      return code;
    }
  }
  what = properties::end_text(end, watchdog_seconds);
  return std::nullopt;
}

// The race search's last trace, where its child's parent can read it.
struct RaceSink {
  static constexpr std::size_t kProgramBytes = 64, kTraceBytes = 1 << 16;
  std::atomic<std::uint64_t> beats{0};
  std::size_t program_bytes = 0, trace_bytes = 0;
  bool truncated = false;
  char program[kProgramBytes];
  char trace[kTraceBytes];

  void keep(const std::string& name, const std::string& jsonl) {
    program_bytes = std::min(name.size(), kProgramBytes);
    std::memcpy(program, name.data(), program_bytes);
    truncated = jsonl.size() > kTraceBytes;
    trace_bytes = std::min(jsonl.size(), kTraceBytes);
    std::memcpy(trace, jsonl.data(), trace_bytes);
    beats.fetch_add(1, std::memory_order_release);
  }
};

}  // namespace

GuardedEnd run_watched_command(const std::function<int()>& body, double watchdog_seconds) {
  GuardedEnd out;
  SharedScheduleSink sink;
  if (!sink.get()) {
    out.exit_code = body();  // no shared memory: unguarded
    return out;
  }
  auto code = run_reporting_child(body, [&] { schedule_sink = sink.get(); }, sink.get()->beats,
                                  watchdog_seconds, out.what);
  if (code) {
    out.exit_code = *code;
    return out;
  }
  out.crashed = true;
  out.exit_code = 1;
  out.schedule = sink.get()->schedule();
  out.decisions = sink.get()->count;
  out.preemptions = sink.get()->preemptions;
  return out;
}

RaceGuardedEnd run_watched_race_command(const std::function<int(const RaceReplayHook&)>& body,
                                        double watchdog_seconds) {
  RaceGuardedEnd out;
  properties::Shared<RaceSink> shared;
  RaceSink* sink = shared.get();
  if (!sink) {
    out.exit_code = body(nullptr);  // no shared memory: unguarded
    return out;
  }
  const RaceReplayHook keep = [sink](const std::string& program, const std::string& jsonl) {
    sink->keep(program, jsonl);
  };
  auto code = run_reporting_child([&] { return body(keep); }, [] {}, sink->beats, watchdog_seconds, out.what);
  if (code) {
    out.exit_code = *code;
    return out;
  }
  out.crashed = true;
  out.exit_code = 1;
  out.program.assign(sink->program, sink->program_bytes);
  out.trace_jsonl.assign(sink->trace, sink->trace_bytes);
  out.truncated = sink->truncated;
  out.replays = sink->beats.load(std::memory_order_acquire);
  return out;
}

Failure crash_failure(const Harness& harness, spec::Mutant mutant, const std::string& what,
                      const Schedule& schedule, std::uint64_t decisions, std::uint64_t preemptions) {
  Failure f;
  f.harness = harness.name;
  f.kind = "model_failure";
  f.message = fmt::format(
      "the impl's process {} in this schedule, at its scheduling point {} (run in a child process "
      "of its own; not shrunk: every try would end so again; the token reruns it)",
      what, decisions);
  f.step = decisions;
  f.token = schedule_token(harness.full_name(), mutant, schedule);
  f.original_token = f.token;
  f.ops = f.original_ops = harness.nr_ops();
  f.preemptions = f.original_preemptions = preemptions;
  return f;
}

std::optional<Failure> crash_of_next_schedule(const PreparedHarness& h, spec::Mutant mutant,
                                              Strategy& strategy, Scheduler& scheduler,
                                              std::size_t max_linearize_ops, double watchdog_seconds,
                                              SharedScheduleSink& sink) {
  if (!sink.get()) return std::nullopt;
  properties::ChildEnd end;
  try {
    end = properties::run_watched(
        [&] {
          schedule_sink = sink.get();
          run_schedule(h, mutant, strategy, scheduler, max_linearize_ops);
          return std::string("ok");
        },
        sink.get()->beats, watchdog_seconds);
  } catch (const std::runtime_error&) {
    return std::nullopt;  // no pipe or fork: the schedule runs unguarded
  }
  if (end.reported) return std::nullopt;
  const ScheduleSink& s = *sink.get();
  return crash_failure(h.harness, mutant, properties::end_text(end, watchdog_seconds), s.schedule(),
                       s.count, s.preemptions);
}

}  // namespace mv::explore
