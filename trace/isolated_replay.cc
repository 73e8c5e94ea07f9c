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
#include <new>
#include <thread>

#include <fmt/format.h>

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
    _exit(code);
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

}  // namespace mv::trace
