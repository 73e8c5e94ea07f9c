#include "properties/worker_pool.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <exception>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "spec/child_exit.h"

namespace mv::properties {

bool write_all(int fd, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

namespace {

bool read_all(int fd, void* data, std::size_t size) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    ssize_t n = ::read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

struct Worker {
  pid_t pid = -1;
  int to_worker = -1;    // task indices
  int from_worker = -1;  // answers: task, length, bytes
  std::optional<std::size_t> task;  // what it is running
};

// The worker's loop: read a task, answer it, until the parent closes the pipe.
[[noreturn]] void serve(int in, int out, const std::function<std::string(std::size_t)>& run) {
  std::uint64_t task = 0;
  while (read_all(in, &task, sizeof task)) {
    std::string text;
    try {
      text = run(static_cast<std::size_t>(task));
    } catch (const std::exception& e) {
      text.clear();
      std::fprintf(stderr, "worker: task %llu threw: %s\n", static_cast<unsigned long long>(task), e.what());
      spec::child_exit(3);
    }
    const std::uint64_t length = text.size();
    if (!write_all(out, &task, sizeof task) || !write_all(out, &length, sizeof length) ||
        !write_all(out, text.data(), text.size()))
      spec::child_exit(4);
  }
  spec::child_exit(0);
}

std::string exit_text(int status) {
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  return "ended";
}

}  // namespace

void run_tasks(const std::vector<std::size_t>& tasks, unsigned jobs,
               const std::function<std::string(std::size_t)>& run,
               const std::function<bool(const TaskOutput&)>& done) {
  if (jobs <= 1 || tasks.size() <= 1) {
    for (auto task : tasks)
      if (!done(TaskOutput{task, true, run(task), {}})) return;
    return;
  }
  std::deque<std::size_t> queue(tasks.begin(), tasks.end());
  std::vector<Worker> workers(std::min<std::size_t>(jobs, tasks.size()));
  std::fflush(nullptr);  // a child must not flush the parent's buffered output again
  for (auto& w : workers) {
    int down[2], up[2];
    if (pipe(down) != 0 || pipe(up) != 0) throw std::runtime_error("run_tasks: pipe failed");
    w.pid = fork();
    if (w.pid < 0) throw std::runtime_error("run_tasks: fork failed");
    if (w.pid == 0) {
      ::close(down[1]);
      ::close(up[0]);
      for (auto& other : workers)
        if (&other != &w && other.pid > 0) {
          ::close(other.to_worker);
          ::close(other.from_worker);
        }
      serve(down[0], up[1], run);
    }
    ::close(down[0]);
    ::close(up[1]);
    w.to_worker = down[1];
    w.from_worker = up[0];
  }
  auto hand_out = [&](Worker& w) {
    if (queue.empty()) {
      if (w.to_worker >= 0) ::close(w.to_worker);
      w.to_worker = -1;
      return;
    }
    const std::uint64_t task = queue.front();
    queue.pop_front();
    w.task = static_cast<std::size_t>(task);
    if (!write_all(w.to_worker, &task, sizeof task)) w.task.reset();
  };
  for (auto& w : workers) hand_out(w);

  auto finish = [&](bool kill_them) {
    for (auto& w : workers) {
      if (w.pid <= 0) continue;
      if (kill_them) ::kill(w.pid, SIGKILL);
      if (w.to_worker >= 0) ::close(w.to_worker);
      if (w.from_worker >= 0) ::close(w.from_worker);
      int status = 0;
      while (waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
      }
      w.pid = -1;
    }
  };
  std::size_t live = workers.size();
  while (live > 0) {
    std::vector<pollfd> fds;
    std::vector<Worker*> owners;
    for (auto& w : workers)
      if (w.from_worker >= 0) {
        fds.push_back({w.from_worker, POLLIN, 0});
        owners.push_back(&w);
      }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      finish(true);
      throw std::runtime_error("run_tasks: poll failed");
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Worker& w = *owners[i];
      std::uint64_t task = 0, length = 0;
      TaskOutput out;
      if (read_all(w.from_worker, &task, sizeof task) && read_all(w.from_worker, &length, sizeof length)) {
        out.task = static_cast<std::size_t>(task);
        out.text.resize(length);
        out.ok = read_all(w.from_worker, out.text.data(), length);
      }
      if (!out.ok) {
        // The worker is gone: reap it and report the task it had.
        ::close(w.from_worker);
        w.from_worker = -1;
        if (w.to_worker >= 0) ::close(w.to_worker);
        w.to_worker = -1;
        int status = 0;
        waitpid(w.pid, &status, 0);
        w.pid = -1;
        --live;
        if (w.task) {
          out.task = *w.task;
          out.text.clear();
          out.problem = fmt::format("the worker running task {} {}", *w.task, exit_text(status));
          if (!done(out)) {
            finish(true);
            return;
          }
        }
        w.task.reset();
        continue;
      }
      w.task.reset();
      if (!done(out)) {
        finish(true);
        return;
      }
      hand_out(w);
    }
  }
  // A dead worker's queue share: run what is left here.
  for (auto task : queue)
    if (!done(TaskOutput{task, true, run(task), {}})) break;
  finish(false);
}

}  // namespace mv::properties
