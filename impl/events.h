// The run's event log (page_counter underflow WARNs, refcount underflows,
// use-after-free detections). Appended on slow paths only, from any CPU.
#pragma once

#include <vector>

#include "impl/sync.h"
#include "spec/snapshot.h"

namespace mv::impl {

class EventLog {
 public:
  void record(spec::EventKind kind, std::uint32_t subject, std::int64_t value = 0) {
    sync::Guard g(lock_);
    events_.push_back(spec::Event{kind, subject, value});
  }
  // At a quiescent point only.
  const std::vector<spec::Event>& events() const { return events_; }

 private:
  sync::SpinLock lock_;
  std::vector<spec::Event> events_;
};

}  // namespace mv::impl
