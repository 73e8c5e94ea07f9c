#include "explore/schedule_sink.h"

#include <sys/mman.h>

#include <new>

namespace mv::explore {

Schedule ScheduleSink::schedule() const {
  Schedule out;
  const std::uint64_t n = count < kCapacity ? count : kCapacity;
  for (std::uint64_t i = 0; i < n; ++i) append_choice(out, thread[i]);
  return out;
}

SharedScheduleSink::SharedScheduleSink() {
  void* shared = mmap(nullptr, sizeof(ScheduleSink), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared != MAP_FAILED) sink_ = new (shared) ScheduleSink();
}

SharedScheduleSink::~SharedScheduleSink() {
  if (sink_) munmap(sink_, sizeof(ScheduleSink));
}

}  // namespace mv::explore
