// Work in a child process the parent watches (issue 12 item 7): whatever the
// work does (segfaults, aborts, loops), the parent sees how it ended and
// stays up. The child beats a counter in shared memory as it makes
// progress; when the counter stands still for the watchdog's time, the
// parent kills it. Used by the guarded campaign (properties/campaign_guard.h)
// and by explore (explore/explore_guard.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include <sys/mman.h>

#include <new>

namespace mv::properties {

// How the watched child ended.
struct ChildEnd {
  bool reported = false;  // it wrote its whole report and exited 0
  bool hung = false;      // the watchdog stopped it
  int status = 0;         // waitpid's
  std::string report;
};

// Runs `work` in a child that beats `beats` (shared memory: mmap MAP_SHARED
// before the call); its answer, `work`'s string, comes back through a pipe
// the parent reads while it watches (a report larger than the pipe's buffer
// must not stall the child). Throws std::runtime_error when there is no pipe
// or no fork.
ChildEnd run_watched(const std::function<std::string()>& work, std::atomic<std::uint64_t>& beats,
                     double watchdog_seconds);

// "was killed by signal 11 (Segmentation fault)", "made no step for 30 s (a
// loop?) and was stopped", "exited with status 3".
std::string end_text(const ChildEnd& end, double watchdog_seconds);

// A T in shared memory (mmap MAP_SHARED | MAP_ANONYMOUS), value-initialized,
// seen by the children forked while it lives and unmapped at the end of its
// scope; get() is null when mmap failed. T must be trivially destructible.
template <class T>
class Shared {
 public:
  Shared() {
    void* memory = mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory != MAP_FAILED) object_ = new (memory) T();
  }
  ~Shared() {
    if (object_) munmap(object_, sizeof(T));
  }
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;
  T* get() const { return object_; }

 private:
  T* object_ = nullptr;
};

}  // namespace mv::properties
