#include "properties/campaign_guard.h"

#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <new>
#include <string>

#include <fmt/format.h>

#include "kernel/isolated_model.h"
#include "properties/campaign_chunks.h"
#include "properties/worker_pool.h"

namespace mv::properties {

namespace {

// How the watched child ended.
struct ChildEnd {
  bool reported = false;  // it wrote its whole report and exited 0
  bool hung = false;      // the watchdog stopped it
  int status = 0;         // waitpid's
  std::string report;
};

// Runs `work` in a child that beats *beats; its answer comes back through a
// pipe the parent reads while it watches (a report larger than the pipe's
// buffer must not stall the child).
ChildEnd run_watched(const std::function<std::string()>& work, std::atomic<std::uint64_t>& beats,
                     double watchdog_seconds) {
  ChildEnd end;
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("run_campaign_guarded: pipe failed");
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);  // nothing buffered here is written twice
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error("run_campaign_guarded: fork failed");
  }
  if (pid == 0) {
    ::close(fds[0]);
    // A watcher that is killed (a --jobs worker stopped once the campaign's
    // verdict is known) takes its campaign along, loop or not.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) std::_Exit(5);
    campaign_heartbeat_counter = &beats;
    std::string report;
    try {
      report = work();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "memcg-verify: the campaign threw: %s\n", e.what());
      std::_Exit(3);
    }
    std::cout.flush();
    std::fflush(nullptr);
    std::_Exit(write_all(fds[1], report.data(), report.size()) ? 0 : 4);
  }
  ::close(fds[1]);
  using Clock = std::chrono::steady_clock;
  const auto timeout = std::chrono::duration<double>(watchdog_seconds);
  std::uint64_t seen = beats.load();
  auto since = Clock::now();
  bool eof = false;
  char buffer[1 << 16];
  while (!eof) {
    pollfd fd{fds[0], POLLIN, 0};
    const int ready = ::poll(&fd, 1, 50);
    if (ready < 0 && errno != EINTR) break;
    if (ready > 0) {
      const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
      if (n > 0) end.report.append(buffer, static_cast<std::size_t>(n));
      else if (n == 0 || errno != EINTR) eof = true;
      since = Clock::now();  // writing its report is progress
      continue;
    }
    if (const auto now = beats.load(); now != seen) {
      seen = now;
      since = Clock::now();
    } else if (Clock::now() - since > timeout) {
      ::kill(pid, SIGKILL);
      end.hung = true;
      break;
    }
  }
  ::close(fds[0]);
  while (waitpid(pid, &end.status, 0) < 0 && errno == EINTR) {
  }
  end.reported = !end.hung && WIFEXITED(end.status) && WEXITSTATUS(end.status) == 0;
  return end;
}

std::string end_text(const ChildEnd& end, double watchdog_seconds) {
  if (end.hung) return fmt::format("made no step for {} s (a loop?) and was stopped", watchdog_seconds);
  if (WIFSIGNALED(end.status))
    return fmt::format("was killed by signal {} ({})", WTERMSIG(end.status), strsignal(WTERMSIG(end.status)));
  if (WIFEXITED(end.status)) return fmt::format("exited with status {}", WEXITSTATUS(end.status));
  return "ended";
}

// The subject in a child process of its own for every run, each step
// answered within the watchdog's time; a subject that cannot even start is a
// model whose every answer is that failure (Conformance reports it at line 1).
class UnstartedModel final : public spec::Model {
 public:
  UnstartedModel(std::string name, std::string why) : name_(std::move(name)), why_(std::move(why)) {}
  spec::Errno apply(const spec::Op&) override { throw std::runtime_error(why_); }
  spec::Snapshot snapshot() const override { throw std::runtime_error(why_); }
  std::string_view name() const override { return name_; }

 private:
  std::string name_, why_;
};

ModelFactory isolated(const ModelFactory& subject, const std::string& name, double watchdog_seconds) {
  kernel::IsolationLimits limits;
  limits.step_timeout = std::chrono::milliseconds(static_cast<long long>(watchdog_seconds * 1000));
  return [subject, name, limits](const spec::Config& config, const spec::PathTable& paths)
             -> std::unique_ptr<spec::Model> {
    try {
      return kernel::make_isolated_model(subject, config, paths, name, limits);
    } catch (const std::exception& e) {
      return std::make_unique<UnstartedModel>(name, e.what());
    }
  };
}

}  // namespace

CampaignResult run_campaign_guarded(const CampaignOptions& options) {
  void* shared = mmap(nullptr, sizeof(std::atomic<std::uint64_t>), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) return run_campaign(options);
  auto* beats = new (shared) std::atomic<std::uint64_t>(0);
  ChildEnd end;
  try {
    end = run_watched([&] { return chunk_result_json(ChunkResult{0, run_campaign(options), {}}).dump(); },
                      *beats, options.watchdog_seconds);
  } catch (const std::runtime_error&) {
    munmap(shared, sizeof(std::atomic<std::uint64_t>));
    return run_campaign(options);  // no pipe or no fork: unguarded
  }
  munmap(shared, sizeof(std::atomic<std::uint64_t>));
  if (end.reported) {
    try {
      auto result = chunk_result_from_json(trace::Json::parse(end.report)).result;
      if (result.passed) result.missing_marks = marks_never_hit(result.marks, options.configs.profile);
      return result;
    } catch (const std::exception&) {
      end.reported = false;  // a report cut short: as if it had died writing it
    }
  }
  // The subject crashed or looped: the same campaign again, each subject in
  // a child, finds the run and the step, here.
  CampaignOptions again = options;
  again.subject = isolated(options.subject, options.subject_name, options.watchdog_seconds);
  if (end.hung) again.shrink = false;
  auto result = run_campaign(again);
  const std::string what = end_text(end, options.watchdog_seconds);
  if (result.failure) {
    if (end.hung && options.shrink)
      result.failure->failure.message +=
          fmt::format(" (not shrunk: every try of a looping step costs the watchdog's {} s)",
                      options.watchdog_seconds);
    return result;
  }
  result.passed = false;
  result.missing_marks.clear();
  result.error = fmt::format(
      "the campaign's process {}, but the campaign again with the {} in a child process of its own "
      "did not fail{}",
      what, options.subject_name, result.error.empty() ? std::string() : ": " + result.error);
  return result;
}

}  // namespace mv::properties
