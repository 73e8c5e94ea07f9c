// percpu_ref (lib/percpu-refcount.c, v6.6) and the per-CPU counter area it
// lives in. css refcounts and objcg refcounts both use it.
//
// Percpu mode: get/put add to the calling CPU's counter (this_cpu_add): a
// relaxed load and store of a word only that CPU writes, no locked
// instruction, no shared cache line. The shared `count_` then holds
// kBias + the initial count, so that it cannot reach zero while the per-CPU
// counters are still live (PERCPU_COUNT_BIAS).
// Kill: set ATOMIC|DEAD, take the switch's confirm ref, put the initial ref
// into `count_` (still biased); the owner queues the switch as an RCU
// callback. After a grace period no CPU writes its per-CPU counter any more,
// so complete_switch() folds the sum into `count_`, removes the bias, puts the
// confirm ref and reports whether the count reached zero.
// Atomic mode: get/put on `count_`; the put that reaches zero reports release.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "impl/sync.h"

namespace mv::impl {

using PcpuCounter = sync::Shared<long>;

// alloc_percpu for counters: one block of kSlots counters per CPU, each CPU's
// block in its own memory, so CPU i's counter for slot k never shares a cache
// line with CPU j's.
class PercpuArea {
 public:
  static constexpr std::uint32_t kNoSlot = ~std::uint32_t{0};

  PercpuArea(std::uint32_t ncpus, std::uint32_t nr_slots);
  PcpuCounter* cpu_base(std::uint32_t cpu) const { return bases_[cpu].get(); }
  // kNoSlot when full (the ref then starts in atomic mode, which is correct, slower).
  std::uint32_t alloc_slot();
  // Zeroes the slot on every CPU; only after no CPU can write it any more.
  void free_slot(std::uint32_t slot);
  long sum(std::uint32_t slot) const;
  std::uint32_t nr_free_slots();

 private:
  std::uint32_t ncpus_;
  std::vector<std::unique_ptr<PcpuCounter[]>> bases_;
  sync::SpinLock lock_;
  // Freed slots, reused last freed first; then the slots never handed out,
  // from next_slot_ up (counted, not listed: a System is made for every
  // property run, and filling a list of 4096 slots was a tenth of a short run).
  std::vector<std::uint32_t> free_;
  std::uint32_t nr_slots_;
  std::uint32_t next_slot_ = 0;
};

enum class RefResult : std::uint8_t {
  ok,
  released,   // the put dropped the last reference (atomic mode)
  underflow,  // a put at zero: the count stays 0
  was_zero,   // a get on a count of zero (use after release)
  failed,     // a tryget on a count of zero
};

class PcpuRef {
 public:
  static constexpr long kBias = long{1} << 60;

  PcpuRef() = default;
  PcpuRef(const PcpuRef&) = delete;
  PcpuRef& operator=(const PcpuRef&) = delete;

  // percpu_ref_init(ref, release, 0, gfp) with `initial` refs; no_ref makes
  // get/put no-ops (the root css: CSS_NO_REF).
  void init(PercpuArea& area, long initial, bool no_ref);

  // percpu_ref_get / percpu_ref_tryget / percpu_ref_put on CPU `cpu_base`.
  // Each is one RCU read-side critical section (the kernel's rcu_read_lock
  // around the mode test and the add): the switch to atomic mode waits for a
  // grace period, so it never misses an add to a per-CPU counter.
  MV_ALWAYS_INLINE RefResult get(PcpuCounter* cpu_base) {
    sync::rcu_read_lock();
    RefResult r = RefResult::ok;
    if (flags_.load_relaxed() == 0) [[likely]]
      cpu_base[slot_].owner_add(1);
    else
      r = get_slow(1);
    sync::rcu_read_unlock();
    return r;
  }
  MV_ALWAYS_INLINE RefResult tryget(PcpuCounter* cpu_base) {
    sync::rcu_read_lock();
    RefResult r = RefResult::ok;
    if (flags_.load_relaxed() == 0) [[likely]]
      cpu_base[slot_].owner_add(1);
    else
      r = tryget_slow();
    sync::rcu_read_unlock();
    return r;
  }
  MV_ALWAYS_INLINE RefResult put(PcpuCounter* cpu_base) {
    sync::rcu_read_lock();
    RefResult r = RefResult::ok;
    if (flags_.load_relaxed() == 0) [[likely]]
      cpu_base[slot_].owner_add(-1);
    else
      r = put_slow();
    sync::rcu_read_unlock();
    return r;
  }

  // percpu_ref_kill: mark dead, switch to atomic (taking the confirm ref),
  // drop the initial ref. The caller queues complete_switch() behind a grace
  // period.
  RefResult kill();
  // percpu_ref_switch_to_atomic_rcu: folds the counts and puts the confirm
  // ref; true when the count is zero afterwards (the release must run now).
  bool complete_switch(PercpuArea& area);

  bool killed() const { return (flags_.load_relaxed() & kDead) != 0; }
  bool switched() const { return switched_.load_relaxed(); }
  // The count as the snapshot shows it (summed over CPUs, bias removed).
  // Only at a quiescent point.
  long total(const PercpuArea& area) const;

 private:
  static constexpr std::uint32_t kAtomic = 1, kDead = 2, kNoRef = 4;
  [[gnu::cold]] RefResult get_slow(long n);
  [[gnu::cold]] RefResult tryget_slow();
  [[gnu::cold]] RefResult put_slow();

  sync::Shared<std::uint32_t> flags_{kAtomic};
  std::uint32_t slot_ = PercpuArea::kNoSlot;
  sync::Shared<long> count_{0};
  sync::Shared<bool> switched_{false};
};

}  // namespace mv::impl
