#include "impl/deferred.h"

#include "impl/kmem.h"
#include "impl/page_stock.h"
#include "impl/system.h"

namespace mv::impl {

void System::queue_work(Cpu& target, Work& work, WorkKind kind, void* subject, bool rcu) {
  // call_rcu: the callback waits for every CPU to pass a quiescent state after
  // this new epoch.
  std::uint64_t gp_target = rcu ? gp_epoch_.fetch_add(1) + 1 : 0;
  std::uint64_t rcu_ticket = rcu ? sync::call_rcu() : 0;
  Mailbox& mailbox = target.pcp->mailbox;
  sync::Guard g(mailbox.lock);
  sync::plain_access(sync::Access::plain_load, &work);
  if (work.pending) return;  // already queued (queue_work's PENDING bit)
  sync::plain_access(sync::Access::plain_store, &work);
  work.pending = true;
  work.kind = kind;
  work.subject = subject;
  work.cpu = target.id;
  work.gp_target = gp_target;
  work.rcu_ticket = rcu_ticket;
  work.seq = work_seq_.fetch_add(1);
  work.next = nullptr;
  if (mailbox.tail)
    mailbox.tail->next = &work;
  else
    mailbox.head = &work;
  mailbox.tail = &work;
  mailbox.nr_queued.fetch_add(1);
  nr_pending_work_.fetch_add(1);
}

bool System::grace_period_elapsed(std::uint64_t gp_target) const {
  for (std::uint32_t i = 0; i < config_.ncpus; ++i) {
    const CpuData& cpu = cpus_[i];
    if (cpu.attached.load(std::memory_order_seq_cst) && cpu.qs_epoch.load() < gp_target)
      return false;
  }
  return true;
}

Work* System::dequeue_locked(Mailbox& mailbox, bool ignore_grace_periods) {
  Work* work = mailbox.head;
  if (!work) return nullptr;
  sync::plain_access(sync::Access::plain_load, work);
  if (!ignore_grace_periods && work->gp_target && !grace_period_elapsed(work->gp_target))
    return nullptr;
  if (!sync::rcu_gp_elapsed(work->rcu_ticket)) return nullptr;
  // css_free and kfree_rcu touch no CPU's stock; the rest run as that CPU.
  bool bound_to_cpu = work->kind != WorkKind::css_free && work->kind != WorkKind::objcg_free;
  if (bound_to_cpu && !sync::cpu_available(work->cpu)) return nullptr;
  mailbox.head = work->next;
  if (!mailbox.head) mailbox.tail = nullptr;
  sync::plain_access(sync::Access::plain_store, work);
  work->next = nullptr;
  work->pending = false;  // may be queued again while it runs, like a work_struct
  mailbox.nr_queued.fetch_sub(1);
  nr_pending_work_.fetch_sub(1);
  return work;
}

std::optional<Work> System::pop_ready(Cpu& cpu, bool ignore_grace_periods) {
  Mailbox& mailbox = cpu.pcp->mailbox;
  sync::Guard g(mailbox.lock);
  Work* work = dequeue_locked(mailbox, ignore_grace_periods);
  if (!work) return std::nullopt;
  return *work;
}

bool System::run_one_ready(Cpu& cpu, bool ignore_grace_periods) {
  // Mutant::requeued_work_read_unlocked (the race c3be344 fixed): the item is
  // read after the mailbox lock is dropped, while another CPU may queue it
  // again and rewrite it.
  if (mutant_ == spec::Mutant::requeued_work_read_unlocked) [[unlikely]] {
    Work* work;
    {
      sync::Guard g(cpu.pcp->mailbox.lock);
      work = dequeue_locked(cpu.pcp->mailbox, ignore_grace_periods);
    }
    if (!work) return false;
    sync::preempt_point(spec::PreemptPoint::after_work_dequeued);
    run_work(*work);
    return true;
  }
  auto work = pop_ready(cpu, ignore_grace_periods);
  if (!work) return false;
  sync::preempt_point(spec::PreemptPoint::after_work_dequeued);
  run_work(*work);
  return true;
}

void System::run_work(const Work& work) {
  sync::plain_access(sync::Access::plain_load, &work);
  Cpu& cpu = cpu_handles_[work.cpu];
  // Work queued on a CPU that went offline since migrates to the lowest
  // online CPU (the workqueue unbinds a dead CPU's workers; RCU callbacks move).
  // A drain work then drains the runner's stock (drain_local_stock works on
  // this_cpu_ptr) and leaves the dead CPU's FLUSHING bit set.
  Cpu& runner = cpu.pcp->online.load() ? cpu : cpu_handles_[lowest_online_cpu()];
  switch (work.kind) {
    case WorkKind::drain_stock:
      if (runner.traits->split_stocks)
        drain_local_memcg_stock(runner);
      else
        drain_local_stock(runner);
      break;
    case WorkKind::drain_obj_stock:
      drain_local_obj_stock(runner);
      break;
    case WorkKind::css_offline:
      mem_cgroup_css_offline(runner, static_cast<Memcg*>(work.subject));
      break;
    case WorkKind::objcg_to_atomic:
      obj_cgroup_to_atomic(runner, static_cast<Objcg*>(work.subject));
      break;
    case WorkKind::css_free:
      css_free_rwork_fn(cpu, static_cast<Memcg*>(work.subject));
      break;
    case WorkKind::objcg_free:
      break;  // kfree_rcu: the tombstone stays
  }
}

void System::quiesce() {
  for (;;) {
    Cpu* oldest = nullptr;
    std::uint64_t oldest_seq = 0;
    for (std::uint32_t i = 0; i < config_.ncpus; ++i) {
      Mailbox& mailbox = cpus_[i].mailbox;
      sync::Guard g(mailbox.lock);
      if (mailbox.head && (!oldest || mailbox.head->seq < oldest_seq)) {
        oldest = &cpu_handles_[i];
        oldest_seq = mailbox.head->seq;
      }
    }
    // The oldest item must wait for a grace period (only under a scheduler,
    // while another operation is inside an RCU read-side section): stop.
    if (!oldest || !run_one_ready(*oldest, /*ignore_grace_periods=*/true)) return;
  }
}

void Cpu::attach() {
  pcp->attached.store(true, std::memory_order_seq_cst);
  pcp->qs_epoch.store(sys->gp_epoch_.load(std::memory_order_seq_cst),
                      std::memory_order_seq_cst);
}

void Cpu::detach() { pcp->attached.store(false, std::memory_order_seq_cst); }

void Cpu::poll() {
  pcp->qs_epoch.store(sys->gp_epoch_.load());  // rcu_qs()
  if (pcp->mailbox.nr_queued.load_relaxed() == 0) return;
  while (sys->run_one_ready(*this, /*ignore_grace_periods=*/false)) {
  }
}

}  // namespace mv::impl
