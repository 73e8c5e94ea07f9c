// The whole simulated machine: per-CPU data, the memcg and objcg pools, the
// deferred-work machinery, the locks. Two ways to drive it:
//  - sequentially, one operation at a time, each on its CPU (impl/model.cc,
//    the spec::Model adapter whose snapshot is compared with the reference);
//  - concurrently, one thread per simulated CPU: a thread calls
//    sys.cpu(i).attach(), then runs operations through that Cpu handle
//    (alloc/free/drain/poll, and the cgroup operations of System with that
//    Cpu as the current CPU), calling poll() between operations, and detach()
//    at the end. System::quiesce() and snapshot() need every thread detached.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "arith/domain.h"
#include "impl/deferred.h"
#include "impl/events.h"
#include "impl/memcg.h"
#include "impl/objcg.h"
#include "impl/per_cpu.h"
#include "impl/percpu_ref.h"
#include "spec/model.h"

namespace mv::impl {

class System;

// A task: its memcg (css_set, read under RCU by the charge path) and CPU.
struct Task {
  sync::Shared<Memcg*> memcg{nullptr};
  sync::Shared<std::uint32_t> cpu{0};
  bool live = false;
  // v6.7+ (the v6.16 profile): current->objcg with its reference, and
  // CURRENT_OBJCG_UPDATE_FLAG. Touched only by the task's own thread.
  Objcg* objcg = nullptr;
  bool objcg_update = false;
};

// THREAD_SIZE / PAGE_SIZE is at most 16K / 4K.
inline constexpr std::uint32_t kMaxStackPages = 4;

// A charged allocation: what the kernel keeps in slab obj_exts, the percpu
// chunk's obj_cgroups[] or page->memcg_data.
struct Object {
  spec::AllocKind kind = spec::AllocKind::slab;
  std::uint64_t charged_bytes = 0;  // 0: not charged (a root task's)
  std::uint32_t nr_kmem_pages = 0;  // page: 1, stack: THREAD_SIZE / PAGE_SIZE
  std::uint32_t order = 0;
  Objcg* objcg = nullptr;
  Objcg* page_objcgs[kMaxStackPages] = {};  // stack: each page's own objcg ref
  // Before v5.13 (KmemPageCharging::memcg_css_ref) a kmem page or stack
  // holds its memcg directly (page->mem_cgroup); nr_kmem_pages then counts
  // the css references it holds (v5.10: one per charge).
  Memcg* memcg = nullptr;
  bool live = false;
};

struct SystemOptions {
  std::uint32_t pcpu_slots = 4096;  // percpu counters per CPU (css + objcg refs)
  spec::Mutant mutant = spec::Mutant::none;  // an injected bug (spec/mutant.h)
};

class System {
 public:
  System(const spec::Config& config, const spec::PathTable& paths, SystemOptions options = {});
  System(const System&) = delete;
  System& operator=(const System&) = delete;

  Cpu& cpu(std::uint32_t i) { return cpu_handles_[i]; }
  std::uint32_t ncpus() const { return config_.ncpus; }
  const spec::Config& config() const { return config_; }
  const arith::PageGeometry& page() const { return page_; }
  std::uint32_t batch_pages() const { return batch_pages_; }
  spec::Mutant mutant() const { return mutant_; }
  // Mutant::dual_obj_stock only: each CPU's hidden second byte stock (only
  // its byte half is used); null otherwise.
  MemcgStockPcp* hidden_obj_stock(std::uint32_t cpu) {
    return hidden_obj_stocks_ ? &(*hidden_obj_stocks_)[cpu] : nullptr;
  }
  unsigned long page_counter_max() const { return page_counter_max_; }

  // cgroup operations, run on `cur` (docs/MODEL-v6.6.md "Operations").
  spec::Errno mkdir(Cpu& cur, spec::PathKey path);
  spec::Errno rmdir(Cpu& cur, spec::PathKey path);
  spec::Errno spawn(Cpu& cur, Task& task, spec::PathKey path, std::uint32_t cpu);
  void exit(Cpu& cur, Task& task);
  spec::Errno migrate(Cpu& cur, Task& task, spec::PathKey path);
  spec::Errno drain_all(Cpu& cur, spec::PathKey path);
  spec::Errno set_max(Cpu& cur, spec::PathKey path, std::optional<std::uint64_t> max_pages);
  // memcg_hotplug_cpu_dead for `dead`, run on `cur`; the dead CPU's thread must
  // not be running.
  spec::Errno cpu_offline(Cpu& cur, std::uint32_t dead);
  // The lowest online CPU (where the model moves tasks and runs hotplug work).
  std::uint32_t lowest_online_cpu() const;

  // Run deferred work in FIFO order until none is left (no thread attached).
  // Under a scheduler it stops at an RCU item whose grace period has not
  // elapsed (an operation still inside an older read-side section).
  void quiesce();
  std::uint32_t nr_pending_work() const {
    return static_cast<std::uint32_t>(nr_pending_work_.load());
  }
  // cgroups, objcgs, stocks, events, pending_work (objects and tasks are the
  // driver's). No thread attached.
  spec::Snapshot snapshot() const;
  // The same, written over `snap` in place (spec::reset_keeping_storage).
  void snapshot_into(spec::Snapshot& snap) const;

  // The online memcg at a path, or null (cgroup_mutex).
  Memcg* online_memcg(spec::PathKey path);
  Memcg* root() { return root_; }

  // --- kernel-internal state, used by the per-concept files ---
  EventLog events;
  PercpuArea pcpu;
  sync::SpinLock objcg_lock;
  sync::Mutex cgroup_mutex;
  sync::Mutex percpu_charge_mutex;
  sync::Mutex memcg_max_mutex;

  // Deferred work (deferred.cc).
  void queue_work(Cpu& target, Work& work, WorkKind kind, void* subject, bool rcu);
  bool grace_period_elapsed(std::uint64_t gp_target) const;
  void run_work(const Work& work);

  Objcg* new_objcg(Cpu& cur, Memcg* memcg);

 private:
  friend class Cpu;
  Memcg* new_memcg(Cpu& cur, Memcg* parent, spec::PathKey path);
  // Dequeues the oldest ready item and returns a copy made under the mailbox
  // lock: once popped, the item may be queued again (and rewritten) by another
  // CPU while this one runs it, like a work_struct in process_one_work.
  std::optional<Work> pop_ready(Cpu& cpu, bool ignore_grace_periods);
  // The oldest item of a mailbox if it is ready, taken off it (lock held).
  Work* dequeue_locked(Mailbox& mailbox, bool ignore_grace_periods);
  // Pops and runs the oldest ready item of cpu's mailbox; false if none.
  bool run_one_ready(Cpu& cpu, bool ignore_grace_periods);

  spec::Config config_;
  const spec::PathTable& paths_;
  arith::PageGeometry page_;
  std::uint32_t batch_pages_;
  unsigned long page_counter_max_;
  spec::Mutant mutant_;
  std::unique_ptr<std::array<MemcgStockPcp, spec::kMaxCpus>> hidden_obj_stocks_;
  CpuArray cpus_;
  std::array<Cpu, spec::kMaxCpus> cpu_handles_;
  std::deque<Memcg> memcgs_;  // by MemcgId; cgroup_mutex to add
  std::deque<Objcg> objcgs_;  // by ObjcgId - 1; cgroup_mutex to add
  Memcg* root_ = nullptr;
  std::vector<Memcg*> online_by_path_;  // cgroup_mutex

  sync::Shared<std::uint64_t> gp_epoch_{0};
  sync::Shared<std::uint64_t> work_seq_{0};
  sync::Shared<long> nr_pending_work_{0};
};

}  // namespace mv::impl
