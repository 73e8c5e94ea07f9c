// The synchronization points of impl/: every access to state that another
// simulated CPU may touch goes through one of these wrappers, so that a
// deterministic scheduler (explore/, the race traces of trace/) can interpose
// on exactly those points.
//
// Interposition points (each calls sync::interpose(kind, address) first):
//   Shared<T>::load/store/fetch_add/fetch_sub/xchg/cas  (atomic_t, atomic_long_t,
//       READ_ONCE/WRITE_ONCE pointers such as objcg->memcg, stock->cached,
//       percpu counters, percpu_ref mode flags, FLUSHING bit);
//   LocalLock::lock/unlock     (local_lock_irqsave(&memcg_stock.stock_lock));
//   SpinLock::lock/unlock      (objcg_lock, the deferred-work mailboxes);
//   Mutex::lock/try_lock/unlock (cgroup_mutex, percpu_charge_mutex).
// Besides them: the named preemption points of the race traces
// (preempt_point, spec/preemption.h), the RCU read-side critical sections
// (rcu_read_lock/unlock), and plain accesses a lock protects (plain_access,
// for a data-race detector).
// With MV_IMPL_SCHED_HOOKS defined to 1 at compile time (the CMake target
// mv_impl_sched, namespace mv::impl_sched), each calls the scheduler set in
// g_hook (if any); otherwise they are empty inline functions and the wrappers
// compile to the bare std::atomic operations: zero cost when off.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>

#include "spec/preemption.h"

#ifndef MV_IMPL_SCHED_HOOKS
#define MV_IMPL_SCHED_HOOKS 0
#endif

// The hit path's functions (MV_HOT in impl/kmem.h, percpu_ref's get, tryget
// and put) are forced inline into their callers. Not in the coverage build
// (MV_COVERAGE, the CMake preset `coverage`): gcov counts every inlined copy's
// branches as branches of the header's line, so a copy in a caller that only
// a mutant or one profile runs looked like a decision never taken although
// the same test went both ways at the other call sites. Out of line, each
// decision of the header is counted once (scripts/coverage.sh).
#if defined(MV_COVERAGE) && MV_COVERAGE
#define MV_ALWAYS_INLINE
#else
#define MV_ALWAYS_INLINE [[gnu::always_inline]]
#endif

namespace mv::impl::sync {

using Access = spec::Access;

#if MV_IMPL_SCHED_HOOKS
// The deterministic scheduler; it may switch to another simulated CPU in any
// of these calls.
inline spec::Scheduler* g_hook = nullptr;
inline void interpose(Access kind, const void* address) {
  if (g_hook) g_hook->on_access(kind, address);
}
inline void plain_access(Access kind, const void* address) { interpose(kind, address); }
inline void preempt_point(spec::PreemptPoint point) {
  if (g_hook) g_hook->at_point(point);
}
inline void rcu_read_lock() {
  if (g_hook) g_hook->rcu_read_lock();
}
inline void rcu_read_unlock() {
  if (g_hook) g_hook->rcu_read_unlock();
}
inline std::uint64_t call_rcu() { return g_hook ? g_hook->call_rcu() : 0; }
inline bool rcu_gp_elapsed(std::uint64_t ticket) { return !g_hook || g_hook->rcu_gp_elapsed(ticket); }
inline bool cpu_available(std::uint32_t cpu) { return !g_hook || g_hook->cpu_available(cpu); }
#else
inline void interpose(Access, const void*) {}
inline void plain_access(Access, const void*) {}
inline void preempt_point(spec::PreemptPoint) {}
// Threaded runs: RCU is quiescent-state based (impl/deferred.h), every
// operation is one read-side critical section.
inline void rcu_read_lock() {}
inline void rcu_read_unlock() {}
inline std::uint64_t call_rcu() { return 0; }
inline bool rcu_gp_elapsed(std::uint64_t) { return true; }
inline bool cpu_available(std::uint32_t) { return true; }
#endif

// A word shared between simulated CPUs (atomic_t, atomic_long_t, or a pointer
// read with READ_ONCE). Loads are acquire and stores release by default: free
// on x86 and what the kernel's RCU publication and refcount ordering need.
template <class T>
class Shared {
 public:
  constexpr Shared() : v_(T{}) {}
  constexpr explicit Shared(T init) : v_(init) {}
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;

  T load(std::memory_order mo = std::memory_order_acquire) const {
    interpose(Access::load, this);
    return v_.load(mo);
  }
  void store(T x, std::memory_order mo = std::memory_order_release) {
    interpose(Access::store, this);
    v_.store(x, mo);
  }
  T load_relaxed() const { return load(std::memory_order_relaxed); }
  void store_relaxed(T x) { store(x, std::memory_order_relaxed); }
  T fetch_add(T x, std::memory_order mo = std::memory_order_acq_rel) {
    interpose(Access::rmw, this);
    return v_.fetch_add(x, mo);
  }
  T fetch_sub(T x, std::memory_order mo = std::memory_order_acq_rel) {
    interpose(Access::rmw, this);
    return v_.fetch_sub(x, mo);
  }
  T fetch_or(T x, std::memory_order mo = std::memory_order_acq_rel) {
    interpose(Access::rmw, this);
    return v_.fetch_or(x, mo);
  }
  T fetch_and(T x, std::memory_order mo = std::memory_order_acq_rel) {
    interpose(Access::rmw, this);
    return v_.fetch_and(x, mo);
  }
  T xchg(T x, std::memory_order mo = std::memory_order_acq_rel) {
    interpose(Access::rmw, this);
    return v_.exchange(x, mo);
  }
  // compare-and-swap; on failure `expected` holds the current value.
  bool cas(T& expected, T desired, std::memory_order mo = std::memory_order_acq_rel) {
    interpose(Access::rmw, this);
    return v_.compare_exchange_strong(expected, desired, mo, std::memory_order_acquire);
  }
  // A counter only its owner writes (this_cpu_add): a relaxed load and store,
  // no locked instruction; other CPUs read it only after a grace period.
  void owner_add(T x) {
    interpose(Access::local, this);
    v_.store(v_.load(std::memory_order_relaxed) + x, std::memory_order_relaxed);
  }

 private:
  std::atomic<T> v_;
};

// local_lock_irqsave(&memcg_stock.stock_lock) (v6.6). A CPU's stock is only
// touched by the thread that owns that simulated CPU (remote drains are queued
// to the owner), so on the real fast path the lock has nothing to exclude: it
// is the interposition point where a deterministic scheduler may preempt.
class LocalLock {
 public:
  void lock() { interpose(Access::lock, this); }
  void unlock() { interpose(Access::unlock, this); }
};

// A short critical section on a slow path (objcg_lock, work mailboxes).
class SpinLock {
 public:
  void lock() {
    interpose(Access::lock, this);
    while (held_.exchange(true, std::memory_order_acquire)) {
      while (held_.load(std::memory_order_relaxed)) std::this_thread::yield();
    }
  }
  void unlock() {
    interpose(Access::unlock, this);
    held_.store(false, std::memory_order_release);
  }

 private:
  std::atomic<bool> held_{false};
};

// A sleeping lock (cgroup_mutex, percpu_charge_mutex, memcg_max_mutex).
class Mutex {
 public:
  void lock() {
    interpose(Access::lock, this);
    m_.lock();
  }
  bool try_lock() {
    interpose(Access::try_lock, this);
    return m_.try_lock();
  }
  void unlock() {
    interpose(Access::unlock, this);
    m_.unlock();
  }

 private:
  std::mutex m_;
};

template <class L>
class Guard {
 public:
  explicit Guard(L& l) : l_(l) { l_.lock(); }
  ~Guard() { l_.unlock(); }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;

 private:
  L& l_;
};

}  // namespace mv::impl::sync
