// A happens-before data-race detector (vector clocks, like ThreadSanitizer or
// the kernel's KCSAN report) over the plain accesses a model marks
// (spec::Access::plain_load/plain_store: data a lock protects). Locks order
// their holders: a release happens before the next acquire of the same lock.
// Two accesses to one address from different threads, one of them a write,
// with no such order between them, are a race. Threads are small integers
// (a simulated CPU, or spec::kMaxCpus for the kworker of a quiesce); `tag`
// says where an access was (a trace line, a step) for the message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mv::trace {

struct DataRace {
  const void* address = nullptr;
  std::uint32_t thread = 0, other_thread = 0;  // the second access's, the first one's
  bool write = false, other_write = false;
  std::size_t tag = 0, other_tag = 0;
  // what: "a deferred work item"; tag_kind: what a tag counts ("line").
  std::string message(std::string_view what, std::string_view tag_kind) const;
};

class RaceDetector {
 public:
  void acquire(std::uint32_t thread, const void* lock);
  void release(std::uint32_t thread, const void* lock);
  // `thread` continues where `from` is now (a thread that starts after
  // another one's work it depends on, e.g. an operation of the same CPU).
  void inherit(std::uint32_t thread, std::uint32_t from);
  void access(std::uint32_t thread, const void* address, bool write, std::size_t tag);
  // The first race seen.
  const std::optional<DataRace>& race() const { return race_; }
  void reset();

 private:
  using Clock = std::vector<std::uint32_t>;
  struct Epoch {
    std::uint32_t thread = 0;
    std::uint32_t clock = 0;  // 0: none
    std::size_t tag = 0;
  };
  struct Location {
    Epoch write;
    std::vector<Epoch> reads;  // the last read of each thread since the write
  };
  Clock& clock_of(std::uint32_t thread);
  bool ordered(std::uint32_t thread, const Epoch& e);
  void report(std::uint32_t thread, const void* address, bool write, std::size_t tag,
              const Epoch& other, bool other_write);

  std::vector<Clock> threads_;
  std::map<const void*, Clock> locks_;
  std::map<const void*, Location> locations_;
  std::optional<DataRace> race_;
};

}  // namespace mv::trace
