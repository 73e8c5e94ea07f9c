// The live experiments' footprint on the machine, and its removal on every
// way out: a uniquely named child of this process's own cgroup
// (memcg-verify-live.PID.N), at most kMaxCgroups cgroups below it and
// kMaxHelpers helper processes. The destructor removes everything (normal
// return, an exception on any error path); SIGINT, SIGTERM and SIGHUP run the
// same clean-up from a handler that uses only async-signal-safe calls (kill,
// waitpid, rmdir, nanosleep) on a registry of fixed-size slots, then die of
// the signal as they would have. Helpers get PR_SET_PDEATHSIG(SIGKILL), so
// none outlives memcg-verify even when it is killed with SIGKILL (which no
// handler sees: the directories then stay, and `live` says so at start).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "live/cgroupfs.h"

namespace mv::live {

inline constexpr std::uint32_t kMaxCgroups = 64;
inline constexpr std::uint32_t kMaxHelpers = 16;
inline constexpr std::string_view kScopePrefix = "memcg-verify-live.";

// Creating the scope was refused (EACCES, EPERM, EROFS): live is skipped.
class NotPermitted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Scope {
 public:
  // Creates the scope's directory in hierarchy.own_dir and installs the
  // signal handlers. Only one scope exists at a time.
  explicit Scope(const MemoryHierarchy& hierarchy);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

  const MemoryHierarchy& hierarchy() const { return hierarchy_; }
  const std::string& dir() const { return dir_; }
  // A new cgroup dir()/relative ("a" or "a/b", its parent made before);
  // registered for clean-up.
  std::string mkdir(std::string_view relative);
  // Removes a cgroup of the scope (it becomes dying or is freed).
  void rmdir(const std::string& path);
  // Cgroups of the scope that exist now, its own directory included.
  std::uint32_t live_cgroups() const;

  // Forks a helper that runs body() and _exits with its value; registered
  // for clean-up (killed and reaped if it is still running).
  pid_t fork_helper(const std::function<int()>& body);
  // Waits for a helper to exit; its exit status, -1 if a signal killed it.
  int wait_helper(pid_t pid);

  // Everything removed now; idempotent. The destructor calls it.
  void clean_up() noexcept;

 private:
  MemoryHierarchy hierarchy_;
  std::string dir_;
};

// Writes `text` to a cgroupfs file; std::runtime_error naming the file and
// errno on failure.
void write_file(const std::string& path, std::string_view text);
// Reads a whole (small) file; std::runtime_error if it cannot be opened.
std::string read_file(const std::string& path);
// Directories at and below `root` (a cgroup directory: each is a cgroup);
// a directory removed during the walk is not counted.
std::uint64_t count_directories(const std::string& root);

}  // namespace mv::live
