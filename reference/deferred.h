// Deferred work: what the kernel runs later from workqueues and RCU callbacks
// (remote stock drains, css offline after the kill is confirmed, the objcg
// percpu_ref switch to atomic mode, css release/free, kfree_rcu). One FIFO;
// quiesce runs it until empty (work may queue more work).
#pragma once

#include <cstdint>

#include "spec/operation.h"

namespace mv::reference {

struct Kernel;

enum class WorkKind : std::uint8_t {
  drain_work,       // stock->work: drain_local_stock on `cpu` (v6.16: drain_local_memcg_stock)
  obj_drain_work,   // v6.16: obj_stock_pcp's work: drain_local_obj_stock on `cpu`
  css_offline,      // the kill's confirmation, then css_killed_work_fn(subject)
  objcg_to_atomic,  // percpu_ref_switch_to_atomic_rcu(objcg subject)
  css_free,         // css_release -> css_free_rwork_fn(subject)
  objcg_free,       // kfree_rcu(objcg subject): nothing visible
  // Profiles with memcg kmem_caches (reference/kmem_cache.h):
  cache_create,      // memcg_kmem_cache_create_func(memcg subject, root cache subject2)
  cache_deactivate,  // the RCU-delayed deactivation of kmem_cache subject
  cache_to_atomic,   // v5.3: the cache percpu_ref's switch to atomic mode after its kill
  cache_shutdown,    // v5.3: kmemcg_cache_shutdown_fn(kmem_cache subject)
};

struct DeferredWork {
  WorkKind kind = WorkKind::drain_work;
  std::uint32_t subject = 0;  // MemcgId or ObjcgId (unused for drain_work)
  spec::Cpu cpu = 0;          // the CPU it was queued for / on
  std::uint32_t subject2 = 0;  // cache_create: the root cache
  std::uint64_t rcu_ticket = 0;  // an RCU callback's call_rcu ticket (Kernel::call_rcu)
};

// Whether the item is an RCU callback (it waits for a grace period): all but
// the plain work items (the drain work, and the kmem_cache create and
// shutdown works of memcg_kmem_cache_wq).
bool is_rcu_callback(WorkKind kind);

void queue_work(Kernel& k, DeferredWork work);
// schedule_work_on(cpu, &stock->work) (v6.6): queue_work_on does nothing while
// the work item is pending (WORK_STRUCT_PENDING), so a CPU has at most one
// drain work queued (v6.16: one of each kind, drain_work and obj_drain_work).
// Returns whether it queued one.
bool schedule_drain_work(Kernel& k, spec::Cpu cpu, WorkKind kind);
// The CPU a queued item runs on: its own, or the lowest online CPU if that one
// went offline meanwhile (workqueues and RCU callbacks migrate off a dead CPU).
spec::Cpu work_cpu(const Kernel& k, spec::Cpu queued_on);
void run_work(Kernel& k, const DeferredWork& work);
// Runs every deferred item in FIFO order until none is left. In a race trace
// it stops at the oldest item that cannot run yet: an RCU callback whose grace
// period has not elapsed, or work bound to a CPU whose operation is preempted.
void quiesce(Kernel& k);

}  // namespace mv::reference
