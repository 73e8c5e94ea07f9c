// Deferred work: the kernel's workqueue items and RCU callbacks that the model
// runs later (docs/MODEL-v6.6.md "Deferred work"), and the grace periods that
// gate the RCU ones.
//
// Each item is a Work embedded in the object it acts on (like a work_struct or
// rcu_head), so queueing never allocates and an item cannot be queued twice
// (queue_work's PENDING bit). An item is queued to the mailbox of the CPU that
// must run it; the owner of that CPU runs it at a safe point (Cpu::poll), or
// System::quiesce runs everything. Items carry a global sequence number, so a
// sequential run executes them in exactly the FIFO order of the model.
//
// Grace periods are quiescent-state based (QSBR): a CPU's thread reports a
// quiescent state between operations (Cpu::poll) and never holds a pointer
// across one; a CPU with no attached thread is always quiescent. An RCU item
// queued at epoch E runs only once every attached CPU has reported E or later.
// Under a deterministic scheduler (impl/sync.h) the item also waits for every
// RCU read-side critical section open when it was queued (sync::call_rcu).
// The fields of an item are written and read under its mailbox lock only
// (sync::plain_access marks those accesses for a data-race detector).
#pragma once

#include <cstdint>

#include "impl/sync.h"

namespace mv::impl {

enum class WorkKind : std::uint8_t {
  drain_stock,      // drain_local_stock via schedule_work_on (memcg_stock_pcp.work;
                    // v6.16: drain_local_memcg_stock)
  drain_obj_stock,  // v6.16: drain_local_obj_stock (obj_stock_pcp.work)
  css_offline,      // percpu_ref_kill_and_confirm -> css_killed_work_fn -> offline
  objcg_to_atomic,  // percpu_ref_switch_to_atomic_rcu for a killed objcg
  css_free,         // css_release -> RCU -> css_free_rwork_fn
  objcg_free,       // kfree_rcu(objcg) after obj_cgroup_release
};

struct Work {
  Work* next = nullptr;
  std::uint64_t seq = 0;        // global FIFO order
  std::uint64_t gp_target = 0;  // 0: not an RCU item
  std::uint64_t rcu_ticket = 0; // under a deterministic scheduler (sync::call_rcu)
  void* subject = nullptr;
  std::uint32_t cpu = 0;        // the CPU that runs it
  WorkKind kind = WorkKind::drain_stock;
  bool pending = false;         // under the mailbox lock
};

// One CPU's incoming work: written by any CPU, drained by the owner.
struct alignas(64) Mailbox {
  sync::SpinLock lock;
  Work* head = nullptr;
  Work* tail = nullptr;
  sync::Shared<std::uint32_t> nr_queued{0};
};

}  // namespace mv::impl
