#include "explore/explore_guard.h"

#include <charconv>
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

}  // namespace

GuardedEnd run_watched_command(const std::function<int()>& body, double watchdog_seconds) {
  GuardedEnd out;
  SharedScheduleSink sink;
  properties::ChildEnd end;
  try {
    if (!sink.get()) throw std::runtime_error("no shared memory");
    end = properties::run_watched(
        [&] {
          schedule_sink = sink.get();
          return guarded_report(body);
        },
        sink.get()->beats, watchdog_seconds);
  } catch (const std::runtime_error&) {
    out.exit_code = body();  // no shared memory, pipe or fork: unguarded
    return out;
  }
  if (end.reported && end.report.rfind("E\n", 0) == 0) throw std::runtime_error(end.report.substr(2));
  if (end.reported) {
    const auto newline = end.report.find('\n');
    int code = 0;
    if (newline != std::string::npos &&
        std::from_chars(end.report.data(), end.report.data() + newline, code).ec == std::errc()) {
      std::cout << end.report.substr(newline + 1) << std::flush;
      out.exit_code = code;
      return out;
    }
  }
  out.crashed = true;
  out.exit_code = 1;
  out.what = properties::end_text(end, watchdog_seconds);
  out.schedule = sink.get()->schedule();
  out.decisions = sink.get()->count;
  out.preemptions = sink.get()->preemptions;
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
