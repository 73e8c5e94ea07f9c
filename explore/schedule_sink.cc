#include "explore/schedule_sink.h"

namespace mv::explore {

Schedule ScheduleSink::schedule() const {
  Schedule out;
  const std::uint64_t n = count < kCapacity ? count : kCapacity;
  for (std::uint64_t i = 0; i < n; ++i) append_choice(out, thread[i]);
  return out;
}

}  // namespace mv::explore
