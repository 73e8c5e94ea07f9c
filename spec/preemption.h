// Preemption points and the scheduler a model runs under (docs/TRACE_FORMAT.md
// "Races"). A sequential run has no scheduler: every operation runs to its end
// and every grace period has elapsed. Under a scheduler (the race traces of
// trace/, the explorer of explore/) an operation may stop at a named point of
// its kernel function while other operations run, and RCU read-side critical
// sections bound exactly which callbacks may run meanwhile.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace mv::spec {

// A place in a kernel function where the kernel can be preempted and another
// CPU can act, named after the code around it. Both models stop at the same
// points, so a race written as a trace replays on either.
enum class PreemptPoint : std::uint8_t {
  // alloc: get_obj_cgroup_from_current returned the objcg (with a reference);
  // no RCU read-side section is open.
  after_get_obj_cgroup_from_current,
  // get_mem_cgroup_from_objcg: `memcg = obj_cgroup_memcg(objcg)` was read,
  // inside rcu_read_lock, before `css_tryget(&memcg->css)`.
  before_css_tryget,
  // drain_all_stock -> obj_stock_flush_required: the stock's cached_objcg was
  // read and found non-NULL, inside rcu_read_lock, before its memcg is read.
  after_flush_required_check,
  // A deferred item (work item or RCU callback) was taken off its queue (its
  // PENDING bit cleared: it may be queued again), before it runs.
  after_work_dequeued,
  // alloc of a slab object (profiles with per-memcg kmem_caches: v5.2, v5.3,
  // davydov-2014): memcg_kmem_get_cache has returned the cache to allocate
  // from (with the reference that memcg_kmem_put_cache drops after the
  // allocation); the allocation from it is next.
  after_get_cache,
  // get_obj_cgroup_from_current -> __get_obj_cgroup_from_memcg (objcg
  // profiles): `objcg = rcu_dereference(memcg->objcg)` was read non-NULL,
  // inside rcu_read_lock, before `obj_cgroup_tryget(objcg)`.
  before_objcg_tryget,
};

struct PreemptPointInfo {
  PreemptPoint point;
  std::string_view name;      // the trace's "preempt_at" value
  std::string_view function;  // the kernel function (v6.6) it is in
  std::string_view where;     // one line: where exactly
};

const std::vector<PreemptPointInfo>& preempt_points();
std::string_view preempt_point_name(PreemptPoint point);
std::optional<PreemptPoint> parse_preempt_point(std::string_view name);

// The kind of a shared access the impl interposes on (impl/sync.h). `plain_*`
// are accesses to data a lock protects: never a place to preempt, but what a
// data-race detector watches. `local` is a per-CPU counter's this_cpu_add
// (a read-modify-write only that CPU does, with no locked instruction).
enum class Access : std::uint8_t {
  load, store, rmw, lock, try_lock, unlock, plain_load, plain_store, local,
};

// What a model calls while a scheduler interleaves its operations. Every
// default is the sequential answer, so a model calls it unconditionally.
class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // The impl's interposition points (impl/sync.h): the scheduler may switch
  // to another CPU here, before the access.
  virtual void on_access(Access kind, const void* address) {}
  // A named preemption point was reached.
  virtual void at_point(PreemptPoint point) {}
  // rcu_read_lock / rcu_read_unlock of the running operation (they nest).
  virtual void rcu_read_lock() {}
  virtual void rcu_read_unlock() {}
  // call_rcu (and queue_rcu_work, kfree_rcu): a ticket that rcu_gp_elapsed
  // answers for. 0 is a callback queued with no scheduler: always ready.
  virtual std::uint64_t call_rcu() { return 0; }
  // Whether a grace period has elapsed since the ticket was taken: no
  // read-side critical section that began before it is still open.
  virtual bool rcu_gp_elapsed(std::uint64_t ticket) { return true; }
  // Whether deferred work bound to a CPU (a drain of its stock, an offline or
  // objcg switch queued there) may run now. A race trace says no while an
  // operation of that CPU is preempted: the point may be inside its
  // local_lock section, which no kworker of that CPU can enter.
  virtual bool cpu_available(std::uint32_t cpu) { return true; }
};

}  // namespace mv::spec
