#include "live/scope.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

namespace mv::live {
namespace {

// The registry the signal handler reads: fixed slots, written before they are
// published (count) and retired by a flag, so a handler that runs between any
// two statements sees a consistent set.
constexpr std::size_t kPathMax = 4096;
struct CgroupSlot {
  char path[kPathMax];
  volatile sig_atomic_t live;
};
struct HelperSlot {
  volatile pid_t pid;
  volatile sig_atomic_t live;
};
// The scope's own directory is slot 0.
CgroupSlot g_cgroups[kMaxCgroups + 1];
volatile sig_atomic_t g_nr_cgroups = 0;
HelperSlot g_helpers[kMaxHelpers];
volatile sig_atomic_t g_nr_helpers = 0;
bool g_scope_exists = false;

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
struct sigaction g_old_actions[3];
struct sigaction g_old_sigpipe;

void sleep_ms(long ms) {
  struct timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, nullptr);
}

// Async-signal-safe: kill and reap every helper, then remove the cgroups,
// deepest (last made) first. A cgroup whose last task was just reaped may
// still read as busy for a moment: retried for up to a second.
void clean_up_registry() {
  for (sig_atomic_t i = 0; i < g_nr_helpers; ++i) {
    if (!g_helpers[i].live) continue;
    kill(g_helpers[i].pid, SIGKILL);
    while (waitpid(g_helpers[i].pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    g_helpers[i].live = 0;
  }
  for (sig_atomic_t i = g_nr_cgroups; i-- > 0;) {
    if (!g_cgroups[i].live) continue;
    for (int attempt = 0; attempt < 100; ++attempt) {
      if (::rmdir(g_cgroups[i].path) == 0 || errno == ENOENT) break;
      if (errno != EBUSY && errno != EINTR) break;
      sleep_ms(10);
    }
    g_cgroups[i].live = 0;
  }
}

void on_signal(int sig) {
  clean_up_registry();
  signal(sig, SIG_DFL);
  raise(sig);
}

void install_handlers() {
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int s : kSignals) sigaddset(&sa.sa_mask, s);  // one clean-up at a time
  for (std::size_t i = 0; i < 3; ++i) sigaction(kSignals[i], &sa, &g_old_actions[i]);
  // A helper that died closes its pipes: a write then fails with EPIPE
  // (reported) instead of killing memcg-verify without its clean-up.
  struct sigaction ignore{};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &g_old_sigpipe);
}

void restore_handlers() {
  for (std::size_t i = 0; i < 3; ++i) sigaction(kSignals[i], &g_old_actions[i], nullptr);
  sigaction(SIGPIPE, &g_old_sigpipe, nullptr);
}

// Blocks the clean-up signals while the registry changes, so the handler
// never sees a slot half written.
class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : kSignals) sigaddset(&set, s);
    sigprocmask(SIG_BLOCK, &set, &old_);
  }
  ~SignalsBlocked() { sigprocmask(SIG_SETMASK, &old_, nullptr); }

 private:
  sigset_t old_;
};

void register_cgroup(const std::string& path) {
  if (path.size() >= kPathMax) throw std::runtime_error(fmt::format("{}: path too long", path));
  SignalsBlocked blocked;
  if (g_nr_cgroups > static_cast<sig_atomic_t>(kMaxCgroups))
    throw std::runtime_error(fmt::format("more than {} cgroups: the experiments are bounded", kMaxCgroups));
  auto& slot = g_cgroups[g_nr_cgroups];
  std::memcpy(slot.path, path.c_str(), path.size() + 1);
  slot.live = 1;
  g_nr_cgroups = g_nr_cgroups + 1;
}

void retire_cgroup(const std::string& path) {
  SignalsBlocked blocked;
  for (sig_atomic_t i = 0; i < g_nr_cgroups; ++i)
    if (g_cgroups[i].live && path == g_cgroups[i].path) g_cgroups[i].live = 0;
}

}  // namespace

void write_file(const std::string& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  ssize_t n = ::write(fd, text.data(), text.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size()))
    throw std::runtime_error(fmt::format("{}: writing \"{}\": {}", path, text, std::strerror(err)));
}

std::string read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  int err = errno;
  ::close(fd);
  if (n < 0) throw std::runtime_error(fmt::format("{}: cannot read: {}", path, std::strerror(err)));
  return text;
}

std::uint64_t count_directories(const std::string& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::directory_iterator it(root, ec), end;
  if (ec) return 0;  // removed meanwhile
  std::uint64_t n = 1;
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    if (it->is_directory(ec) && !it->is_symlink(ec)) n += count_directories(it->path().string());
  }
  return n;
}

Scope::Scope(const MemoryHierarchy& hierarchy) : hierarchy_(hierarchy) {
  if (g_scope_exists) throw std::logic_error("one live scope at a time");
  static unsigned counter = 0;
  for (int attempt = 0; attempt < 100; ++attempt) {
    dir_ = fmt::format("{}/{}{}.{}", hierarchy.own_dir, kScopePrefix, getpid(), counter++);
    if (::mkdir(dir_.c_str(), 0755) == 0) break;
    int err = errno;
    if (err == EEXIST) continue;
    if (err == EACCES || err == EPERM || err == EROFS)
      throw NotPermitted(fmt::format("cannot create a child of this process's own cgroup ({}): {}",
                                     hierarchy.own_dir, std::strerror(err)));
    throw std::runtime_error(fmt::format("{}: mkdir: {}", dir_, std::strerror(err)));
  }
  g_scope_exists = true;
  g_nr_cgroups = 0;
  g_nr_helpers = 0;
  install_handlers();
  register_cgroup(dir_);
}

Scope::~Scope() {
  clean_up();
  restore_handlers();
  g_scope_exists = false;
}

void Scope::clean_up() noexcept {
  SignalsBlocked blocked;
  clean_up_registry();
}

std::string Scope::mkdir(std::string_view relative) {
  if (relative.empty() || relative.front() == '/' || relative.back() == '/' ||
      relative.find("..") != std::string_view::npos || relative.find("//") != std::string_view::npos)
    throw std::invalid_argument(fmt::format("\"{}\" is not a path below the scope", relative));
  std::string path = dir_ + "/" + std::string(relative);
  register_cgroup(path);  // before mkdir: a signal in between removes it
  if (::mkdir(path.c_str(), 0755) != 0) {
    int err = errno;
    retire_cgroup(path);
    throw std::runtime_error(fmt::format("{}: mkdir: {}", path, std::strerror(err)));
  }
  return path;
}

void Scope::rmdir(const std::string& path) {
  if (::rmdir(path.c_str()) != 0)
    throw std::runtime_error(fmt::format("{}: rmdir: {}", path, std::strerror(errno)));
  retire_cgroup(path);
}

std::uint32_t Scope::live_cgroups() const {
  std::uint32_t n = 0;
  for (sig_atomic_t i = 0; i < g_nr_cgroups; ++i) n += g_cgroups[i].live ? 1 : 0;
  return n;
}

pid_t Scope::fork_helper(const std::function<int()>& body) {
  SignalsBlocked blocked;  // the child starts with them blocked, then resets them
  if (g_nr_helpers >= static_cast<sig_atomic_t>(kMaxHelpers))
    throw std::runtime_error(fmt::format("more than {} helper processes: the experiments are bounded",
                                         kMaxHelpers));
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);  // the parent is already gone
    restore_handlers();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    int code = 125;
    try {
      code = body();
    } catch (...) {
    }
    _exit(code);
  }
  auto& slot = g_helpers[g_nr_helpers];
  slot.pid = pid;
  slot.live = 1;
  g_nr_helpers = g_nr_helpers + 1;
  return pid;
}

int Scope::wait_helper(pid_t pid) {
  int status = 0;
  pid_t r;
  while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  {
    SignalsBlocked blocked;
    for (sig_atomic_t i = 0; i < g_nr_helpers; ++i)
      if (g_helpers[i].pid == pid) g_helpers[i].live = 0;
  }
  if (r < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace mv::live
