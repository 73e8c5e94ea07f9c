#include "live/experiments.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace mv::live {
namespace {

constexpr double kStepTimeoutSeconds = 20;  // one helper step, on a loaded machine
constexpr std::size_t kThreadStackBytes = 256 * 1024;

double now_seconds() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void sleep_seconds(double s) {
  struct timespec ts{static_cast<time_t>(s), static_cast<long>((s - static_cast<time_t>(s)) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

pid_t this_thread_id() { return static_cast<pid_t>(syscall(SYS_gettid)); }

std::string errno_text() { return std::strerror(errno); }

// One end of a pipe, closed with the object.
class Fd {
 public:
  Fd() = default;
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  void adopt(int fd) {
    reset();
    fd_ = fd;
  }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read_end, write_end;
  Pipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2: " + errno_text());
    read_end.adopt(fds[0]);
    write_end.adopt(fds[1]);
  }
};

// Reads one byte within `timeout` seconds: nullopt on EOF; throws on timeout.
std::optional<char> read_byte(int fd, double timeout, std::string_view what) {
  struct pollfd p{fd, POLLIN, 0};
  int r;
  while ((r = poll(&p, 1, static_cast<int>(timeout * 1000))) < 0 && errno == EINTR) {
  }
  if (r == 0) throw std::runtime_error(fmt::format("{}: no answer within {} s", what, timeout));
  char c;
  ssize_t n;
  while ((n = ::read(fd, &c, 1)) < 0 && errno == EINTR) {
  }
  if (n <= 0) return std::nullopt;
  return c;
}

void write_byte(int fd, char c) {
  ssize_t n;
  while ((n = ::write(fd, &c, 1)) < 0 && errno == EINTR) {
  }
  if (n != 1) throw std::runtime_error("a helper's pipe: " + errno_text());
}

// The two pipes between memcg-verify and one helper. Each side closes the
// ends it does not use right after the fork.
class Channel {
 public:
  void helper_side() {
    to_helper_.write_end.reset();
    to_parent_.read_end.reset();
  }
  void parent_side() {
    to_helper_.read_end.reset();
    to_parent_.write_end.reset();
  }
  // memcg-verify: the next step, and its answer ('k', or 'e' and a message).
  void step(char command, std::string_view what) {
    write_byte(to_helper_.write_end.get(), command);
    expect(what);
  }
  void expect(std::string_view what) {
    auto c = read_byte(to_parent_.read_end.get(), kStepTimeoutSeconds, what);
    if (!c) throw std::runtime_error(fmt::format("{}: the helper died", what));
    if (*c == 'k') return;
    std::string message;
    while (auto more = read_byte(to_parent_.read_end.get(), 1, what)) {
      if (*more == '\n') break;
      message += *more;
    }
    throw std::runtime_error(fmt::format("{}: {}", what, message));
  }
  // memcg-verify: no more commands (the helper's next command() is EOF).
  void hang_up() { to_helper_.write_end.reset(); }
  // The helper: wait for a command (EOF: memcg-verify went away).
  std::optional<char> command() { return read_byte(to_helper_.read_end.get(), 1e6, "helper"); }
  void ok() { write_byte(to_parent_.write_end.get(), 'k'); }
  void error(const std::string& message) {
    std::string text = "e" + message + "\n";
    [[maybe_unused]] auto n = ::write(to_parent_.write_end.get(), text.data(), text.size());
  }

 private:
  Pipe to_helper_, to_parent_;
};

// ---- counting dying cgroups ----

class V2Counter final : public DyingCounter {
 public:
  explicit V2Counter(std::string dir) : dir_(std::move(dir)) { start_ = read(); }
  std::int64_t dying() override { return read() - start_; }
  std::int64_t tolerance() const override { return 0; }

 private:
  std::int64_t read() const {
    auto path = dir_ + "/cgroup.stat";
    auto stat = parse_flat_keyed(read_file(path), path);
    auto d = dying_from_cgroup_stat(stat);
    if (!d) throw std::runtime_error(path + ": no nr_dying_descendants");
    return *d;
  }
  std::string dir_;
  std::int64_t start_ = 0;
};

// v1 has no count of dying cgroups per cgroup: /proc/cgroups' num_cgroups
// counts every memcg of the hierarchy that is not yet freed, so the
// hierarchy's dying memcgs are num_cgroups less the directories of the
// hierarchy (every one visible when its root is mounted, as on this kind of
// machine; else the invisible ones count as dying, and cancel out in the
// difference from the start). Other users' cgroups that are created or
// removed cancel out of the difference; other users' cgroups that die or are
// freed meanwhile do not: the tolerance.
class V1Counter final : public DyingCounter {
 public:
  explicit V1Counter(const Scope& scope) : mount_point_(scope.hierarchy().mount_point) {
    start_ = read();
  }
  std::int64_t dying() override { return read() - start_; }
  std::int64_t tolerance() const override { return 2; }

 private:
  std::int64_t num_cgroups() const {
    auto row = memory_row(parse_proc_cgroups(read_file("/proc/cgroups")));
    if (!row) throw std::runtime_error("/proc/cgroups: no memory row");
    return static_cast<std::int64_t>(row->num_cgroups);
  }
  // num_cgroups on both sides of the walk: equal, or the walk is repeated
  // (a cgroup came or went during it).
  std::int64_t read() const {
    std::int64_t dying = 0;
    for (int attempt = 0; attempt < 5; ++attempt) {
      const auto before = num_cgroups();
      const auto dirs = static_cast<std::int64_t>(count_directories(mount_point_));
      dying = before - dirs;
      if (num_cgroups() == before) break;
    }
    return dying;
  }
  std::string mount_point_;
  std::int64_t start_ = 0;
};

std::unique_ptr<DyingCounter> make_counter(const Scope& scope, const std::string& experiment_dir) {
  if (scope.hierarchy().version == CgroupVersion::v2) return std::make_unique<V2Counter>(experiment_dir);
  return std::make_unique<V1Counter>(scope);
}

// Reads the count every 100 ms until it has not changed for a second (and
// half a second has passed), or max_seconds: the kernel frees a removed
// cgroup after RCU grace periods and work items. Records each change.
std::int64_t settle(DyingCounter& counter, const std::string& phase, double max_seconds,
                    std::vector<Reading>& series) {
  const double start = now_seconds();
  std::int64_t last = counter.dying();
  series.push_back({phase, 0, last});
  double last_change = 0, t = 0;
  while (t < max_seconds && !(t >= 0.5 && t - last_change >= 1.0)) {
    sleep_seconds(0.1);
    t = now_seconds() - start;
    std::int64_t v = counter.dying();
    if (v != last) {
      last = v;
      last_change = t;
      series.push_back({phase, t, v});
    }
  }
  if (series.back().t_seconds != t) series.push_back({phase, t, last});
  return std::max<std::int64_t>(last, 0);
}

// ---- what each child had charged before its removal ----

std::optional<std::int64_t> key(const std::map<std::string, std::int64_t>& m, const char* k) {
  auto it = m.find(k);
  if (it == m.end()) return std::nullopt;
  return it->second;
}

Charged read_charged(const Scope& scope, const std::string& cg) {
  Charged c;
  auto stat_path = cg + "/memory.stat";
  auto stat = parse_flat_keyed(read_file(stat_path), stat_path);
  if (scope.hierarchy().version == CgroupVersion::v1) {
    c.user_bytes = key(stat, "rss").value_or(0) + key(stat, "cache").value_or(0);
    try {
      c.kernel_bytes = std::stoll(read_file(cg + "/memory.kmem.usage_in_bytes"));
    } catch (const std::exception&) {
    }
  } else {
    c.user_bytes = key(stat, "anon").value_or(0) + key(stat, "file").value_or(0);
    c.kernel_bytes = key(stat, "kernel");
    if (!c.kernel_bytes)
      c.kernel_bytes = key(stat, "kernel_stack").value_or(0) + key(stat, "slab").value_or(0) +
                       key(stat, "percpu").value_or(0);
  }
  return c;
}

void add(Charged& sum, const Charged& c) {
  sum.user_bytes += c.user_bytes;
  if (c.kernel_bytes) sum.kernel_bytes = sum.kernel_bytes.value_or(0) + *c.kernel_bytes;
}

// ---- the layout of one experiment: its directory, a home for its helper,
// its children ----

struct Layout {
  std::string dir;
  std::string home;
  std::vector<std::string> children;
};

Layout make_layout(Scope& scope, const std::string& name, std::uint32_t n, bool with_home) {
  Layout l;
  l.dir = scope.mkdir(name);
  // v2: the children get a memory controller only if their parent enables it
  // (the scope's own directory enabled it for this one).
  if (scope.hierarchy().version == CgroupVersion::v2) write_file(l.dir + "/cgroup.subtree_control", "+memory");
  if (with_home) l.home = scope.mkdir(name + "/home");
  for (std::uint32_t i = 0; i < n; ++i) l.children.push_back(scope.mkdir(fmt::format("{}/c{}", name, i)));
  return l;
}

// One experiment's state: what it measured so far, its cgroups, its counter
// (read once before anything is removed).
struct Experiment {
  Measured m;
  Layout layout;
  std::unique_ptr<DyingCounter> counter;

  Experiment(Scope& scope, const std::string& name, std::uint32_t n, bool with_home)
      : layout(make_layout(scope, name, n, with_home)), counter(make_counter(scope, layout.dir)) {
    m.name = name;
    m.cgroups = n;
    m.tolerance = counter->tolerance();
    m.series.push_back({"before", 0, counter->dying()});
  }
  // What child i had charged, then its removal.
  void remove_child(Scope& scope, std::size_t i) {
    add(m.charged, read_charged(scope, layout.children[i]));
    scope.rmdir(layout.children[i]);
  }
  // For a helper that runs one step per child ('g', then "k"): each step, then
  // the child's removal; the count once it settled.
  void step_and_remove_each(Scope& scope, Channel& channel, double settle_max_seconds) {
    for (std::size_t i = 0; i < layout.children.size(); ++i) {
      channel.step('g', fmt::format("{} step {}", m.name, i));
      remove_child(scope, i);
    }
    m.dying_after_rmdir = settle(*counter, "after rmdir", settle_max_seconds, m.series);
  }
};

void move_process(const std::string& cg, pid_t pid) { write_file(cg + "/cgroup.procs", fmt::format("{}", pid)); }
void move_thread(const std::string& cg, pid_t tid) { write_file(cg + "/tasks", fmt::format("{}", tid)); }

// Memory touched now, so that later page faults of the helper do not charge
// whichever cgroup it is in at the time.
void* faulted_in(std::size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::runtime_error("mmap: " + errno_text());
  std::memset(p, 1, bytes);
  return p;
}

// ---- stack_loop ----

struct Sleeper {
  std::atomic<pid_t> tid{0};
  int release_fd = -1;
  pthread_t thread{};
};

void* sleeper_main(void* arg) {
  auto* s = static_cast<Sleeper*>(arg);
  s->tid.store(this_thread_id());
  char c;
  while (::read(s->release_fd, &c, 1) < 0 && errno == EINTR) {
  }
  return nullptr;
}

pthread_t start_thread(void* stack, void* (*fn)(void*), void* arg) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstack(&attr, stack, kThreadStackBytes);
  pthread_t t;
  int err = pthread_create(&t, &attr, fn, arg);
  pthread_attr_destroy(&attr);
  if (err != 0) throw std::runtime_error(fmt::format("pthread_create: {}", std::strerror(err)));
  return t;
}

struct StackLoopHelper {
  Channel* channel;
  const Layout* layout;
  CgroupVersion version;
  int release_fd;
  std::vector<Sleeper> sleepers;
  std::vector<void*> stacks;
  std::string error;

  // Each step: into child i, a new thread, out again. v1 moves only the
  // calling thread (a worker: the main thread, which owns the mm, stays home);
  // v2 moves the whole process.
  void loop() {
    try {
      for (std::size_t i = 0; i < layout->children.size(); ++i) {
        auto c = channel->command();
        if (!c) return;
        const auto& child = layout->children[i];
        if (version == CgroupVersion::v1) move_thread(child, this_thread_id());
        else move_process(child, getpid());
        sleepers[i].release_fd = release_fd;
        sleepers[i].thread = start_thread(stacks[i], sleeper_main, &sleepers[i]);
        while (sleepers[i].tid.load() == 0) sleep_seconds(0.001);
        if (version == CgroupVersion::v1) {
          move_thread(layout->home, this_thread_id());
          move_thread(layout->home, sleepers[i].tid.load());
        } else {
          move_process(layout->home, getpid());
        }
        channel->ok();
      }
    } catch (const std::exception& e) {
      error = e.what();
      channel->error(error);
    }
  }

  static void* worker_main(void* arg) {
    static_cast<StackLoopHelper*>(arg)->loop();
    return nullptr;
  }

  int run() {
    move_process(layout->home, getpid());
    sleepers = std::vector<Sleeper>(layout->children.size());
    for (std::size_t i = 0; i <= layout->children.size(); ++i) stacks.push_back(faulted_in(kThreadStackBytes));
    if (version == CgroupVersion::v1) {
      pthread_t worker = start_thread(stacks.back(), worker_main, this);
      pthread_join(worker, nullptr);
    } else {
      loop();
    }
    if (!error.empty()) return 1;
    // The release: memcg-verify closes the pipe's write end; every sleeper's
    // read returns and the thread exits, freeing its stack.
    for (std::size_t i = 0; i < sleepers.size(); ++i) pthread_join(sleepers[i].thread, nullptr);
    channel->ok();
    channel->command();  // until told to go, or memcg-verify is gone
    return 0;
  }
};

}  // namespace

Measured run_stack_loop(Scope& scope, const ExperimentSizes& sizes) {
  Experiment e(scope, "stack_loop", sizes.stack_loop, true);
  Channel channel;
  Pipe release;
  pid_t helper = scope.fork_helper([&] {
    channel.helper_side();
    release.write_end.reset();
    StackLoopHelper h{&channel, &e.layout, scope.hierarchy().version, release.read_end.get(), {}, {}, {}};
    return h.run();
  });
  channel.parent_side();
  release.read_end.reset();
  e.step_and_remove_each(scope, channel, sizes.settle_max_seconds);
  release.write_end.reset();
  channel.expect("stack_loop release");
  e.m.dying_after_release = settle(*e.counter, "after release", sizes.settle_max_seconds, e.m.series);
  channel.hang_up();
  scope.wait_helper(helper);
  return e.m;
}

namespace {

// ---- user_pages_control ----

// The heap's first pages touched at home: a page the allocator takes from
// the kernel while the helper is in child i (fmt's buffers, say) would be
// charged to it and keep it dying after the release.
void prefault_heap() {
  std::vector<void*> blocks;
  for (int i = 0; i < 32; ++i) {
    blocks.push_back(std::malloc(2048));
    std::memset(blocks.back(), 0, 2048);
  }
  for (void* b : blocks) std::free(b);
}

int user_pages_helper(Channel& channel, const Layout& layout, std::size_t bytes) {
  std::vector<void*> regions;
  try {
    move_process(layout.home, getpid());
    regions.reserve(layout.children.size());
    prefault_heap();
    for (const auto& child : layout.children) {
      if (!channel.command()) return 0;
      move_process(child, getpid());
      regions.push_back(faulted_in(bytes));  // anonymous pages, charged to the child
      move_process(layout.home, getpid());
      channel.ok();
    }
    if (!channel.command()) return 0;  // the release
    for (void* r : regions) munmap(r, bytes);
    channel.ok();
  } catch (const std::exception& e) {
    channel.error(e.what());
    return 1;
  }
  channel.command();
  return 0;
}

// ---- kmem_dead_cgroups ----

// test_kmem_dead_cgroups's alloc_dcache: negative dentries with long names
// (their names are external, kmalloc'ed and charged too).
int alloc_dcache(const std::string& child, std::uint32_t dentries) {
  try {
    move_process(child, getpid());
  } catch (const std::exception&) {
    return 1;
  }
  char buf[160];
  struct stat st;
  for (std::uint32_t i = 0; i < dentries; ++i) {
    std::snprintf(buf, sizeof buf, "/memcg-verify-live-non-existent-with-a-long-name-%64u-%d", i,
                  static_cast<int>(getpid()));
    stat(buf, &st);
  }
  return 0;
}

}  // namespace

Measured run_user_pages_control(Scope& scope, const ExperimentSizes& sizes) {
  Experiment e(scope, "user_pages_control", sizes.user_pages_control, true);
  const std::size_t bytes = std::size_t{sizes.user_pages_per_cgroup} * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  Channel channel;
  pid_t helper = scope.fork_helper([&] {
    channel.helper_side();
    return user_pages_helper(channel, e.layout, bytes);
  });
  channel.parent_side();
  e.step_and_remove_each(scope, channel, sizes.settle_max_seconds);
  channel.step('g', "user_pages_control release");
  e.m.dying_after_release = settle(*e.counter, "after release", sizes.settle_max_seconds, e.m.series);
  channel.hang_up();
  scope.wait_helper(helper);
  return e.m;
}

Measured run_kmem_dead_cgroups(Scope& scope, const ExperimentSizes& sizes) {
  Experiment e(scope, "kmem_dead_cgroups", sizes.kmem_dead_cgroups, false);
  for (std::size_t i = 0; i < e.layout.children.size(); ++i) {
    const auto& child = e.layout.children[i];
    pid_t p = scope.fork_helper([&] { return alloc_dcache(child, sizes.dentries_per_cgroup); });
    if (int code = scope.wait_helper(p); code != 0)
      throw std::runtime_error(fmt::format("{}: the allocating process failed ({})", child, code));
    e.remove_child(scope, i);
  }
  e.m.dying_after_rmdir = settle(*e.counter, "after rmdir", sizes.settle_max_seconds, e.m.series);
  return e.m;
}

}  // namespace mv::live
