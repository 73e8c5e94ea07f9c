#include "trace/race_detector.h"

#include <algorithm>

#include <fmt/format.h>

#include "spec/profile.h"

namespace mv::trace {

namespace {

// Threads are CPUs, and the kworker of a quiesce (no CPU) after them.
std::string thread_name(std::uint32_t thread) {
  return thread >= spec::kMaxCpus ? std::string("the kworker of a quiesce")
                                  : fmt::format("CPU {}", thread);
}

}  // namespace

std::string DataRace::message(std::string_view what, std::string_view tag_kind) const {
  return fmt::format("data race on {}: {} by {} (at {} {}) and {} by {} (at {} {}), not "
                     "ordered by any lock",
                     what, other_write ? "a write" : "a read", thread_name(other_thread), tag_kind,
                     other_tag, write ? "a write" : "a read", thread_name(thread), tag_kind, tag);
}

RaceDetector::Clock& RaceDetector::clock_of(std::uint32_t thread) {
  if (thread >= threads_.size()) threads_.resize(thread + 1);
  Clock& c = threads_[thread];
  if (c.size() <= thread) c.resize(thread + 1, 0);
  if (c[thread] == 0) c[thread] = 1;
  return c;
}

void RaceDetector::acquire(std::uint32_t thread, const void* lock) {
  auto it = locks_.find(lock);
  if (it == locks_.end()) return;
  Clock& c = clock_of(thread);
  if (c.size() < it->second.size()) c.resize(it->second.size(), 0);
  for (std::size_t i = 0; i < it->second.size(); ++i) c[i] = std::max(c[i], it->second[i]);
}

void RaceDetector::release(std::uint32_t thread, const void* lock) {
  Clock& c = clock_of(thread);
  locks_[lock] = c;
  ++c[thread];
}

void RaceDetector::inherit(std::uint32_t thread, std::uint32_t from) {
  if (thread == from) return;
  Clock copy = clock_of(from);
  Clock& c = clock_of(thread);
  if (c.size() < copy.size()) c.resize(copy.size(), 0);
  for (std::size_t i = 0; i < copy.size(); ++i) c[i] = std::max(c[i], copy[i]);
  ++clock_of(from)[from];
}

bool RaceDetector::ordered(std::uint32_t thread, const Epoch& e) {
  if (e.clock == 0 || e.thread == thread) return true;
  const Clock& c = clock_of(thread);
  return e.thread < c.size() && c[e.thread] >= e.clock;
}

void RaceDetector::report(std::uint32_t thread, const void* address, bool write, std::size_t tag,
                          const Epoch& other, bool other_write) {
  if (race_) return;
  race_ = DataRace{address, thread, other.thread, write, other_write, tag, other.tag};
}

void RaceDetector::access(std::uint32_t thread, const void* address, bool write,
                          std::size_t tag) {
  Location& loc = locations_[address];
  if (!ordered(thread, loc.write)) report(thread, address, write, tag, loc.write, true);
  const Epoch now{thread, clock_of(thread)[thread], tag};
  if (write) {
    for (const auto& read : loc.reads)
      if (!ordered(thread, read)) report(thread, address, true, tag, read, false);
    loc.write = now;
    loc.reads.clear();
    return;
  }
  for (auto& read : loc.reads)
    if (read.thread == thread) {
      read = now;
      return;
    }
  loc.reads.push_back(now);
}

void RaceDetector::reset() {
  threads_.clear();
  locks_.clear();
  locations_.clear();
  race_.reset();
}

}  // namespace mv::trace
