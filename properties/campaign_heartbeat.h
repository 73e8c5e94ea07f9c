// The heartbeat a guarded campaign (properties/campaign_guard.h) is watched
// by: Conformance beats it at every checked step, the watching process reads
// it from memory both share. Outside a guarded campaign's child it is null,
// and a beat costs one test of a pointer.
#pragma once

#include <atomic>
#include <cstdint>

namespace mv::properties {

inline std::atomic<std::uint64_t>* campaign_heartbeat_counter = nullptr;

inline void campaign_heartbeat() {
  if (auto* beats = campaign_heartbeat_counter) beats->fetch_add(1, std::memory_order_relaxed);
}

}  // namespace mv::properties
