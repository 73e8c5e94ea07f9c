// The choices of the schedule running, kept where the parent of a watched
// child reads them after the child died in it (explore/explore_guard.h).
#pragma once

#include <atomic>
#include <cstdint>

#include "explore/strategy.h"
#include "properties/watched_child.h"

namespace mv::explore {

// The schedule running, choice by choice, where a parent can read it after
// the child running it died; and the beats of the parent's watch.
struct ScheduleSink {
  static constexpr std::size_t kCapacity = 1 << 18;  // above ExploreOptions::max_steps
  std::atomic<std::uint64_t> beats{0};  // every decision
  std::uint64_t count = 0;              // decisions of the schedule running
  std::uint64_t preemptions = 0;
  std::uint32_t thread[kCapacity];

  void begin() {
    count = 0;
    preemptions = 0;
  }
  void record(std::uint32_t chosen, bool preempted) {
    if (count < kCapacity) thread[count] = chosen;
    ++count;
    preemptions += preempted;
    beats.fetch_add(1, std::memory_order_relaxed);
  }
  Schedule schedule() const;
};

// Set in a watched child only: the scheduler records into it.
inline ScheduleSink* schedule_sink = nullptr;

// ScheduleSink in shared memory (properties/watched_child.h).
using SharedScheduleSink = properties::Shared<ScheduleSink>;

}  // namespace mv::explore
