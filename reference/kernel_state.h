// The reference model's whole state in one plain struct: every reference/*.cc
// function takes it first, as the kernel's functions reach global and per-CPU
// data. One field per kind of kernel object the model tracks.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <utility>
#include <set>
#include <vector>

#include "arith/domain.h"
#include "reference/deferred.h"
#include "reference/kmem.h"
#include "reference/kmem_cache.h"
#include "reference/memcg.h"
#include "reference/obj_stock.h"
#include "reference/objcg.h"
#include "reference/page_stock.h"
#include "spec/path_table.h"
#include "spec/preemption.h"
#include "spec/profile.h"
#include "spec/snapshot.h"

namespace mv::reference {

// struct memcg_stock_pcp (v6.6): one combined stock per CPU. v6.16
// (c80509ef65e4) splits it: struct memcg_stock_pcp holds the page stock,
// struct obj_stock_pcp the byte stock, each with its own local_trylock_t,
// drain work and FLUSHING_CACHED_CHARGE bit (obj_flushing).
struct MemcgStockPcp {
  bool online = true;
  PageStock page;
  ObjStock obj;
  bool flushing = false;      // FLUSHING_CACHED_CHARGE: a drain work is queued
  bool obj_flushing = false;  // v6.16: obj_stock_pcp's FLUSHING_CACHED_CHARGE
  // v6.16: the local_trylock_t of each stock, held inside its critical
  // sections (see local_trylock below).
  bool memcg_lock_held = false;
  bool obj_lock_held = false;
};

// The ids handed out for writing since the last take(), each once (for
// ReferenceModel::take_changes; the model never reads them).
class WrittenIds {
 public:
  void note(std::uint32_t id) {
    if (id >= marked_.size()) marked_.resize(id + 1, false);
    if (!marked_[id]) marked_[id] = true, ids_.push_back(id);
  }
  std::vector<std::uint32_t> take() {
    for (auto id : ids_) marked_[id] = false;
    return std::exchange(ids_, {});
  }

 private:
  std::vector<std::uint32_t> ids_;
  std::vector<bool> marked_;
};

struct Kernel {
  spec::Config config;
  arith::PageGeometry page{4096, 12};
  const spec::PathTable* paths = nullptr;

  std::vector<MemCgroup> memcgs;       // by MemcgId; the root is 0; freed ones stay
  std::vector<ObjCgroup> objcgs;       // by ObjcgId - 1; released ones stay
  std::vector<MemcgStockPcp> stocks;   // by CPU
  std::map<spec::PathKey, spec::MemcgId> online_by_path;
  std::map<spec::TaskKey, Task> tasks;
  std::map<spec::ObjKey, KmemObject> objects;
  // Profiles with memcg kmem_caches (reference/kmem_cache.h).
  std::vector<KmemCache> caches;                      // by CacheId - 1
  std::map<spec::SlabPageId, SlabPage> slab_pages;    // live pages
  spec::SlabPageId next_slab_page = 1;
  // Root caches by (trace name, or nullopt and the object size).
  std::map<std::pair<std::optional<spec::CacheKey>, std::uint32_t>, spec::CacheId> root_caches;
  std::set<std::uint32_t> kmemcg_ids;                 // memcg_cache_ida: ids in use
  std::deque<DeferredWork> deferred;
  std::vector<spec::Event> events;
  // mutex_trylock(&percpu_charge_mutex) fails while another drain_all_stock
  // holds it (one preempted in a race trace).
  bool percpu_charge_mutex_locked = false;

  // The scheduler of a race trace (spec/preemption.h, docs/TRACE_FORMAT.md
  // "Races"); null in a sequential run, where all of these do nothing and
  // every grace period has elapsed.
  spec::Scheduler* sched = nullptr;
  // A place where the kernel can be preempted while other CPUs run.
  void preemption_point(spec::PreemptPoint point) {
    if (sched) sched->at_point(point);
  }
  void rcu_read_lock() {
    if (sched) sched->rcu_read_lock();
  }
  void rcu_read_unlock() {
    if (sched) sched->rcu_read_unlock();
  }
  std::uint64_t call_rcu() { return sched ? sched->call_rcu() : 0; }
  bool rcu_gp_elapsed(std::uint64_t ticket) const { return !sched || sched->rcu_gp_elapsed(ticket); }
  // Whether deferred work bound to `cpu` may run: not while a race trace has
  // an operation of that CPU preempted.
  bool cpu_available(spec::Cpu cpu) const { return !sched || sched->cpu_available(cpu); }

  // The traits the kernel's code follows: its profile's, unless an overlay
  // boots the profile's code as it was before one of its fixes (overlay/,
  // e.g. v5.3's page stock without GONG Ruiqi's reference); the snapshot and
  // the spec still judge it as the profile (config).
  const spec::ProfileTraits* code_traits = nullptr;
  const spec::ProfileTraits& traits() const {
    return code_traits ? *code_traits : config.profile_traits();
  }
  std::uint32_t charge_batch_pages() const { return traits().charge_batch_pages; }
  // Every write goes through these (the vectors are only appended to
  // directly): the non-const ones note what they hand out, so that a replay
  // snapshots only those (spec::Model::take_changes).
  MemCgroup& memcg(spec::MemcgId id) {
    MemCgroup& m = memcgs.at(id);
    written_memcgs.note(id);
    return m;
  }
  const MemCgroup& memcg(spec::MemcgId id) const { return memcgs.at(id); }
  ObjCgroup& objcg(spec::ObjcgId id) {
    ObjCgroup& o = objcgs.at(id - 1);
    written_objcgs.note(id);
    return o;
  }
  const ObjCgroup& objcg(spec::ObjcgId id) const { return objcgs.at(id - 1); }
  MemcgStockPcp& stock(spec::Cpu cpu) {
    MemcgStockPcp& s = stocks.at(cpu);
    written_stocks.note(cpu);
    return s;
  }
  const MemcgStockPcp& stock(spec::Cpu cpu) const { return stocks.at(cpu); }
  WrittenIds written_memcgs, written_objcgs, written_stocks;

  void record(spec::EventKind kind, std::uint32_t subject, std::int64_t value = 0) {
    events.push_back(spec::Event{kind, subject, value});
  }
  // Misuse checks: record a use after free and carry on (models never crash).
  void touch_memcg(spec::MemcgId id) {
    if (memcg(id).state == spec::CgroupState::freed)
      record(spec::EventKind::memcg_use_after_free, id);
  }
  void touch_objcg(spec::ObjcgId id) {
    if (objcg(id).state == spec::ObjcgState::released)
      record(spec::EventKind::objcg_use_after_free, id);
  }
};

// The two per-CPU stock locks of v6.16 (memcg_stock.lock, obj_stock.lock).
enum class StockLock : std::uint8_t { memcg, obj };

// local_trylock (v6.15+, 51339d99c013; the stocks' own locks from v6.16):
// fails when the lock is already taken on this CPU. On a CPU the lock is taken
// only by the code running there, so the kernel's trylock fails only in a
// context that interrupted a holder: an irq or NMI allocating while the task
// is inside a stock's critical section (the reason the trylock exists:
// gfpflags_allow_spinning, bpf). The model runs each operation in task
// context, to its end, and no stock critical section of v6.16 calls another
// stock function on the same CPU, so in a sequential run every trylock
// succeeds. The lock state is kept anyway, and each function's failure path
// is the kernel's: tests/reference_page_stock_test.cc takes a lock by hand
// (an interrupted holder) and checks that path (docs/DESIGNS.md).
inline bool& stock_lock_held(Kernel& k, spec::Cpu cpu, StockLock lock) {
  auto& stock = k.stock(cpu);
  return lock == StockLock::memcg ? stock.memcg_lock_held : stock.obj_lock_held;
}
inline bool local_trylock(Kernel& k, spec::Cpu cpu, StockLock lock) {
  bool& held = stock_lock_held(k, cpu, lock);
  if (held) return false;
  held = true;
  return true;
}
inline void local_unlock(Kernel& k, spec::Cpu cpu, StockLock lock) {
  stock_lock_held(k, cpu, lock) = false;
}

// A booted system: the root memcg (online, unlimited, no objcg), every CPU
// online with empty stocks. `paths` must outlive the state.
Kernel boot_kernel(const spec::Config& config, const spec::PathTable& paths);
// The canonical snapshot (spec/snapshot.h).
spec::Snapshot take_snapshot(const Kernel& k);
// Applies one operation (the dispatch of model.cc).
spec::Errno apply_op(Kernel& k, const spec::Op& op);

}  // namespace mv::reference
