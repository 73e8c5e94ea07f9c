#include "properties/watched_child.h"

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
#include <stdexcept>

#include <fmt/format.h>

#include "properties/worker_pool.h"
#include "spec/child_exit.h"

namespace mv::properties {

ChildEnd run_watched(const std::function<std::string()>& work, std::atomic<std::uint64_t>& beats,
                     double watchdog_seconds) {
  ChildEnd end;
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("run_watched: pipe failed");
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);  // nothing buffered here is written twice
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error("run_watched: fork failed");
  }
  if (pid == 0) {
    ::close(fds[0]);
    // A watcher that is killed (a --jobs worker stopped once the campaign's
    // verdict is known) takes its campaign along, loop or not.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) spec::child_exit(5);
    std::string report;
    try {
      report = work();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "memcg-verify: the watched work threw: %s\n", e.what());
      spec::child_exit(3);
    }
    std::cout.flush();
    std::fflush(nullptr);
    spec::child_exit(write_all(fds[1], report.data(), report.size()) ? 0 : 4);
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

}  // namespace mv::properties
