#include "reference/deferred.h"

#include "reference/kernel_state.h"

namespace mv::reference {

using spec::Cpu;

bool is_rcu_callback(WorkKind kind) {
  return kind != WorkKind::drain_work && kind != WorkKind::obj_drain_work &&
         kind != WorkKind::cache_create && kind != WorkKind::cache_shutdown;
}

// schedule_work_on / queue_work / call_rcu / kfree_rcu: all wait for quiesce.
void queue_work(Kernel& k, DeferredWork work) {
  if (is_rcu_callback(work.kind)) work.rcu_ticket = k.call_rcu();
  k.deferred.push_back(work);
}

bool schedule_drain_work(Kernel& k, Cpu cpu, WorkKind kind) {
  for (const auto& work : k.deferred)
    if (work.kind == kind && work.cpu == cpu) return false;  // still pending
  queue_work(k, DeferredWork{kind, 0, cpu});
  return true;
}

Cpu work_cpu(const Kernel& k, Cpu queued_on) {
  if (queued_on < k.stocks.size() && k.stock(queued_on).online) return queued_on;
  for (Cpu cpu = 0; cpu < k.stocks.size(); ++cpu)
    if (k.stock(cpu).online) return cpu;
  return queued_on;  // unreachable: the last online CPU cannot go offline
}

void run_work(Kernel& k, const DeferredWork& work) {
  switch (work.kind) {
    case WorkKind::drain_work:
      // drain_local_stock works on this_cpu_ptr(&memcg_stock): a drain work
      // queued for a CPU that went offline since runs on another CPU (the
      // workqueue unbinds the dead CPU's workers) and drains that CPU's stock,
      // leaving the dead CPU's FLUSHING bit set.
      if (k.traits().split_stocks)
        drain_local_memcg_stock(k, work_cpu(k, work.cpu));
      else
        drain_local_stock(k, work_cpu(k, work.cpu));
      break;
    case WorkKind::obj_drain_work:
      drain_local_obj_stock(k, work_cpu(k, work.cpu));
      break;
    case WorkKind::css_offline:
      css_killed_work_fn(k, work_cpu(k, work.cpu), work.subject);
      break;
    case WorkKind::objcg_to_atomic:
      percpu_ref_switch_to_atomic_rcu(k, work_cpu(k, work.cpu), work.subject);
      break;
    case WorkKind::css_free:
      css_free_rwork_fn(k, work.subject);
      break;
    case WorkKind::objcg_free:
      break;  // kfree_rcu: the objcg stays listed as released
    case WorkKind::cache_create:
      memcg_kmem_cache_create_func(k, work.subject, work.subject2);
      break;
    case WorkKind::cache_deactivate:
      kmemcg_cache_deactivate_work(k, work_cpu(k, work.cpu), work.subject);
      break;
    case WorkKind::cache_to_atomic:
      cache_percpu_ref_switch_to_atomic(k, work.subject);
      break;
    case WorkKind::cache_shutdown:
      kmemcg_cache_shutdown_fn(k, work.subject);
      break;
  }
}

namespace {

// css_free and kfree_rcu touch no CPU's stock.
bool bound_to_cpu(WorkKind kind) {
  return kind == WorkKind::drain_work || kind == WorkKind::obj_drain_work ||
         kind == WorkKind::css_offline || kind == WorkKind::objcg_to_atomic;
}

}  // namespace

void quiesce(Kernel& k) {
  while (!k.deferred.empty()) {
    const DeferredWork& next = k.deferred.front();
    if (!k.rcu_gp_elapsed(next.rcu_ticket)) return;
    if (bound_to_cpu(next.kind) && !k.cpu_available(next.cpu)) return;
    DeferredWork work = next;
    k.deferred.pop_front();  // process_one_work: PENDING is clear from here on
    k.preemption_point(spec::PreemptPoint::after_work_dequeued);
    run_work(k, work);
  }
}

}  // namespace mv::reference
