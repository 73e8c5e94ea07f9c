#include "trace/isolated_replay.h"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <new>
#include <thread>

#include <fmt/format.h>

#include "spec/child_exit.h"
#include "trace/report.h"

namespace mv::trace {

namespace {

// The replay in this process, without a watchdog.
int run_here(const Trace& trace, const std::function<ReplayResult(const Trace&, ReplayProgress*)>& run,
             const std::function<int(const ReplayResult&)>& report) {
  return report(run(trace, nullptr));
}

void flush_all() {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
}

// The child's end, as a model failure at the line it was on.
ReplayResult failure_at(const Trace& trace, std::size_t line, std::string model,
                        const std::function<ReplayResult(const Trace&, ReplayProgress*)>& run,
                        ModelChoice label, std::string message) {
  ReplayResult result;
  result.model = label;
  if (line > 1) {
    // The lines before it ran to completion in the child: again, here.
    Trace before = trace;
    std::erase_if(before.ops, [&](const TraceOp& op) { return op.line >= line; });
    before.error.reset();
    result = run(before, nullptr);
    result.error.reset();
  }
  result.model_failure = ModelFailure{line, std::move(model), std::move(message)};
  return result;
}

}  // namespace

int run_isolated(const Trace& trace,
                 const std::function<ReplayResult(const Trace&, ReplayProgress*)>& run,
                 const std::function<int(const ReplayResult&)>& report, ModelChoice label,
                 Isolation isolation) {
  void* shared = mmap(nullptr, sizeof(ReplayProgress), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) return run_here(trace, run, report);
  auto* progress = new (shared) ReplayProgress;
  flush_all();
  const pid_t pid = fork();
  if (pid < 0) {
    munmap(shared, sizeof(ReplayProgress));
    return run_here(trace, run, report);
  }
  if (pid == 0) {
    auto result = run(trace, progress);
    progress->finished = true;
    const int code = report(result);
    flush_all();
    spec::child_exit(code);
  }
  // The watchdog: until the replay returns, the child must finish a phase of
  // a step at least every step_timeout_seconds (its report is not timed).
  using Clock = std::chrono::steady_clock;
  const auto timeout = std::chrono::duration<double>(isolation.step_timeout_seconds);
  std::uint64_t beats = progress->beats.load();
  auto since = Clock::now();
  int status = 0;
  bool hung = false;
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) {
      status = 0;  // not our child any more: nothing to report
      break;
    }
    if (const auto now_beats = progress->beats.load(); now_beats != beats) {
      beats = now_beats;
      since = Clock::now();
    } else if (!progress->finished.load() && Clock::now() - since > timeout) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      hung = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  // The child is gone: its last words are read without a race.
  const std::size_t line = progress->line;
  const std::string model(progress->model), doing(progress->doing);
  const bool finished = progress->finished.load();
  munmap(shared, sizeof(ReplayProgress));
  if (finished && WIFEXITED(status)) return WEXITSTATUS(status);  // it reported
  std::string message;
  if (hung)
    message = fmt::format("no answer for {} s while {} (a loop?); stopped",
                          isolation.step_timeout_seconds, doing);
  else if (WIFSIGNALED(status))
    message = fmt::format("crashed while {}: {} (signal {})", doing, strsignal(WTERMSIG(status)),
                          WTERMSIG(status));
  else if (!finished)
    // exit() in a model, or a sanitizer's handler that exits.
    message = fmt::format("ended the process (exit status {}) while {}", WEXITSTATUS(status), doing);
  else
    return 1;  // it crashed while reporting: the report is on stdout, partly
  return report(failure_at(trace, line, model, run, label, message));
}

IsolatedReport replay_isolated(const Trace& trace,
                               const std::function<ReplayResult(const Trace&, ReplayProgress*)>& run,
                               ModelChoice label, Isolation isolation) {
  // The report goes through a file both processes hold (a pipe could fill up
  // while the parent only waits): whoever reports last writes it whole.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::tmpfile(), &std::fclose);
  if (!file) {
    const auto result = run(trace, nullptr);
    return {result.exit_code(), result.verdict(), report_json(trace, result)};
  }
  auto report = [&](const ReplayResult& result) {
    const Json doc{{"exit", result.exit_code()},
                   {"verdict", result.verdict()},
                   {"report", report_json(trace, result)}};
    const std::string text = doc.dump(-1, ' ', false, Json::error_handler_t::replace);
    std::rewind(file.get());
    if (ftruncate(fileno(file.get()), 0) == 0) {
      std::fwrite(text.data(), 1, text.size(), file.get());
      std::fflush(file.get());
    }
    return result.exit_code();
  };
  const int exit = run_isolated(trace, run, report, label, isolation);
  std::rewind(file.get());
  std::string text;
  char buffer[1 << 16];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0;) text.append(buffer, n);
  Json doc = Json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("report"))
    return {exit, fmt::format("MODEL FAILURE: the replay ended while writing its report (exit {})", exit),
            Json::object()};
  return {exit, doc.value("verdict", std::string()), std::move(doc["report"])};
}

}  // namespace mv::trace
