#include "kernel/isolated_model.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <variant>

#include <fmt/format.h>

#include "kernel/wire.h"

namespace mv::kernel {

namespace {

using Clock = std::chrono::steady_clock;

// Requests (parent to child) and answers (child to parent), one type byte
// each, then the payload.
enum Frame : std::uint8_t {
  kApply = 'a',     // new paths, op, prefetch -> kResult
  kSnapshot = 's',  // u8 full -> kState
  kObject = 'o',    // key -> kLiveObject
  kResult = 'r',    // errno, [snapshot], [object]
  kState = 'S',
  kLiveObject = 'O',
  kReady = 'R',
  kFailure = 'F',   // message: the model threw
};

enum Prefetch : std::uint8_t { kNone = 0, kSummary = 1, kFull = 2 };

bool write_all(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool send_frame(int fd, std::uint8_t type, const std::string& payload) {
  std::string frame(5, '\0');
  const std::uint32_t length = static_cast<std::uint32_t>(payload.size() + 1);
  std::memcpy(frame.data(), &length, 4);
  frame[4] = static_cast<char>(type);
  frame += payload;
  return write_all(fd, frame);
}

// Reads exactly n bytes before `deadline` (nullopt: no deadline). Returns
// false on end of file; throws TimedOut when the deadline passes.
struct TimedOut {};
bool read_exact(int fd, char* out, std::size_t n, std::optional<Clock::time_point> deadline) {
  std::size_t done = 0;
  while (done < n) {
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
      if (left <= 0) throw TimedOut{};
      pollfd p{fd, POLLIN, 0};
      int r = poll(&p, 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
      if (r < 0 && errno == EINTR) continue;
      if (r == 0) throw TimedOut{};
    }
    ssize_t got = recv(fd, out + done, n - done, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    done += static_cast<std::size_t>(got);
  }
  return true;
}

// One frame: false on end of file.
bool receive_frame(int fd, std::uint8_t& type, std::string& payload,
                   std::optional<Clock::time_point> deadline) {
  char header[5];
  if (!read_exact(fd, header, 5, deadline)) return false;
  std::uint32_t length;
  std::memcpy(&length, header, 4);
  if (length == 0 || length > (1u << 30)) return false;
  type = static_cast<std::uint8_t>(header[4]);
  payload.resize(length - 1);
  return length == 1 || read_exact(fd, payload.data(), length - 1, deadline);
}

std::optional<spec::ObjKey> object_of(const spec::Op& op) {
  if (const auto* a = std::get_if<spec::Alloc>(&op)) return a->obj;
  if (const auto* f = std::get_if<spec::Free>(&op)) return f->obj;
  return std::nullopt;
}

// ---- the child ----

[[noreturn]] void serve(const ChildFactory& factory, const spec::Config& config,
                        const spec::PathTable& parent_paths, int fd) {
  spec::PathTable paths = parent_paths;
  std::unique_ptr<spec::Model> model;
  std::string stopped;  // set once the model has failed
  try {
    model = factory(config, paths);
  } catch (const std::exception& e) {
    wire::Writer why;
    why.string(e.what());
    send_frame(fd, kFailure, why.take());
    _exit(0);
  }
  wire::Writer ready;
  ready.string(model->name());
  if (!send_frame(fd, kReady, ready.take())) _exit(0);
  std::uint8_t type;
  std::string payload;
  while (receive_frame(fd, type, payload, std::nullopt)) {
    wire::Writer out;
    std::uint8_t answer = kFailure;
    try {
      if (!stopped.empty()) throw std::runtime_error(fmt::format("stopped after an earlier failure: {}", stopped));
      wire::Reader in(payload);
      if (type == kApply) {
        for (auto n = in.count(); n > 0; --n) paths.intern(in.string());
        const spec::Op op = wire::get_op(in);
        const auto prefetch = in.u8();
        out.u8(static_cast<std::uint8_t>(model->apply(op)));
        if (prefetch == kFull) wire::put(out, model->snapshot());
        if (prefetch == kSummary) {
          wire::put(out, model->snapshot_without_objects());
          auto key = object_of(op);
          auto object = key ? model->live_object(*key) : std::nullopt;
          out.boolean(object.has_value());
          if (object) wire::put(out, *object);
        }
        answer = kResult;
      } else if (type == kSnapshot) {
        wire::put(out, in.u8() ? model->snapshot() : model->snapshot_without_objects());
        answer = kState;
      } else if (type == kObject) {
        auto object = model->live_object(in.u32());
        out.boolean(object.has_value());
        if (object) wire::put(out, *object);
        answer = kLiveObject;
      } else {
        throw std::runtime_error("unknown request");
      }
    } catch (const std::exception& e) {
      if (stopped.empty()) stopped = e.what();
      out = wire::Writer();
      out.string(e.what());
      answer = kFailure;
    }
    if (!send_frame(fd, answer, out.take())) break;
  }
  _exit(0);
}

// ---- the proxy ----

std::string describe_status(int status) {
  if (WIFSIGNALED(status))
    return fmt::format("was killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  return "ended";
}

class IsolatedModel final : public spec::Model {
 public:
  IsolatedModel(const ChildFactory& factory, const spec::Config& config, const spec::PathTable& paths,
                std::string name, IsolationLimits limits)
      : paths_(paths), name_(std::move(name)), limits_(limits) {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
      throw std::runtime_error(fmt::format("cannot start the {} model: socketpair: {}", name_, std::strerror(errno)));
    std::fflush(nullptr);  // nothing buffered here is written twice
    pid_ = fork();
    if (pid_ < 0) {
      close(fds[0]);
      close(fds[1]);
      throw std::runtime_error(fmt::format("cannot start the {} model: fork: {}", name_, std::strerror(errno)));
    }
    if (pid_ == 0) {
      // Only the stream to the parent stays open: another child's stream
      // kept here would hide that child's end of file from it.
      if (fds[1] != 3) {
        dup2(fds[1], 3);
        close(fds[1]);
      }
      close_range(4, ~0U, 0);
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      serve(factory, config, paths, 3);
    }
    close(fds[1]);
    fd_ = fds[0];
    synced_paths_ = paths.size();
    std::uint8_t type;
    std::string payload;
    exchange_answer("starting", type, payload, limits_.step_timeout * 4);
    if (type != kReady) {
      std::string message = type == kFailure ? wire::Reader(payload).string() : "an unexpected answer";
      stop();
      throw std::runtime_error(message);
    }
  }

  ~IsolatedModel() override { stop(); }

  spec::Errno apply(const spec::Op& op) override {
    cache_.reset();
    wire::Writer w;
    w.u32(static_cast<std::uint32_t>(paths_.size() - synced_paths_));
    for (auto key = synced_paths_; key < paths_.size(); ++key) w.string(paths_.path(static_cast<spec::PathKey>(key)));
    synced_paths_ = paths_.size();
    wire::put(w, op);
    w.u8(prefetch_);
    auto answer = request(kApply, w.take(), kResult, fmt::format("applying {}", spec::op_name(op)));
    wire::Reader r(answer);
    auto result = static_cast<spec::Errno>(r.u8());
    Cache cache;
    if (prefetch_ == kFull) cache.full = wire::get_snapshot(r);
    if (prefetch_ == kSummary) {
      cache.summary = wire::get_snapshot(r);
      if (r.boolean()) cache.object = wire::get_object(r);
      cache.object_key = object_of(op);
    }
    cache_ = std::move(cache);
    return result;
  }

  spec::Snapshot snapshot() const override {
    prefetch_ = kFull;
    if (cache_ && cache_->full) return *cache_->full;
    return fetch_snapshot(true);
  }

  spec::Snapshot snapshot_without_objects() const override {
    prefetch_ = kSummary;
    if (cache_ && cache_->summary) return *cache_->summary;
    return fetch_snapshot(false);
  }

  std::optional<spec::ObjectSnap> live_object(spec::ObjKey key) const override {
    if (cache_ && cache_->summary && cache_->object_key == key) return cache_->object;
    wire::Writer w;
    w.u32(key);
    auto answer = request(kObject, w.take(), kLiveObject, "reading an object");
    wire::Reader r(answer);
    if (!r.boolean()) return std::nullopt;
    return wire::get_object(r);
  }

  std::string_view name() const override { return name_; }

 private:
  struct Cache {
    std::optional<spec::Snapshot> full, summary;
    std::optional<spec::ObjKey> object_key;
    std::optional<spec::ObjectSnap> object;
  };

  spec::Snapshot fetch_snapshot(bool full) const {
    wire::Writer w;
    w.u8(full ? 1 : 0);
    auto answer = request(kSnapshot, w.take(), kState, "taking a snapshot");
    wire::Reader r(answer);
    return wire::get_snapshot(r);
  }

  // Sends one request and returns the payload of its answer, or throws
  // saying what became of the child.
  std::string request(std::uint8_t type, const std::string& payload, std::uint8_t want,
                      const std::string& doing) const {
    if (!gone_.empty()) throw std::runtime_error(gone_);
    if (!send_frame(fd_, type, payload)) {
      std::uint8_t t;
      std::string p;
      exchange_answer(doing, t, p, limits_.step_timeout);  // throws with the child's fate
    }
    std::uint8_t got;
    std::string answer;
    exchange_answer(doing, got, answer, limits_.step_timeout);
    if (got == kFailure) throw std::runtime_error(wire::Reader(answer).string());
    if (got != want) fail(fmt::format("the {} model's process answered {} with an unexpected frame", name_, doing));
    return answer;
  }

  void exchange_answer(const std::string& doing, std::uint8_t& type, std::string& payload,
                       std::chrono::milliseconds timeout) const {
    try {
      if (receive_frame(fd_, type, payload, Clock::now() + timeout)) return;
    } catch (const TimedOut&) {
      kill(pid_, SIGKILL);
      reap();
      fail(fmt::format("the {} model did not answer within {:.1f} s while {} (a loop?): its process "
                       "was stopped",
                       name_, std::chrono::duration<double>(timeout).count(), doing));
    }
    int status = reap();
    fail(fmt::format("the {} model's process {} while {}", name_, describe_status(status), doing));
  }

  [[noreturn]] void fail(std::string message) const {
    gone_ = message;
    throw std::runtime_error(message);
  }

  int reap() const {
    int status = 0;
    if (pid_ > 0) {
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
    }
    return status;
  }

  void stop() {
    if (fd_ >= 0) {
      close(fd_);
      fd_ = -1;
    }
    if (pid_ > 0) {
      // The child leaves when it reads the end of the stream; give it a
      // moment, then make sure.
      for (int i = 0; i < 200; ++i) {
        int status;
        pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_ || (r < 0 && errno != EINTR)) {
          pid_ = -1;
          return;
        }
        usleep(i < 20 ? 100 : 5000);
      }
      kill(pid_, SIGKILL);
      reap();
    }
  }

  const spec::PathTable& paths_;
  std::string name_;
  IsolationLimits limits_;
  int fd_ = -1;
  mutable pid_t pid_ = -1;
  std::size_t synced_paths_ = 0;
  mutable std::uint8_t prefetch_ = kNone;
  mutable std::optional<Cache> cache_;
  mutable std::string gone_;  // why the child is no more
};

}  // namespace

std::unique_ptr<spec::Model> make_isolated_model(const ChildFactory& factory, const spec::Config& config,
                                                 const spec::PathTable& paths, std::string name,
                                                 IsolationLimits limits) {
  return std::make_unique<IsolatedModel>(factory, config, paths, std::move(name), limits);
}

}  // namespace mv::kernel
