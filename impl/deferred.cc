#include "impl/deferred.h"

#include "impl/kmem.h"
#include "impl/page_stock.h"
#include "impl/system.h"

namespace mv::impl {

void System::queue_work(Cpu& target, Work& work, WorkKind kind, void* subject, bool rcu) {
  // call_rcu: the callback waits for every CPU to pass a quiescent state after
  // this new epoch.
  std::uint64_t gp_target = rcu ? gp_epoch_.fetch_add(1) + 1 : 0;
  Mailbox& mailbox = target.pcp->mailbox;
  sync::Guard g(mailbox.lock);
  if (work.pending) return;  // already queued (queue_work's PENDING bit)
  work.pending = true;
  work.kind = kind;
  work.subject = subject;
  work.cpu = target.id;
  work.gp_target = gp_target;
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

std::optional<Work> System::pop_ready(Cpu& cpu, bool ignore_grace_periods) {
  Mailbox& mailbox = cpu.pcp->mailbox;
  sync::Guard g(mailbox.lock);
  Work* work = mailbox.head;
  if (!work) return std::nullopt;
  if (!ignore_grace_periods && work->gp_target && !grace_period_elapsed(work->gp_target))
    return std::nullopt;
  mailbox.head = work->next;
  if (!mailbox.head) mailbox.tail = nullptr;
  work->next = nullptr;
  work->pending = false;  // may be queued again while it runs, like a work_struct
  mailbox.nr_queued.fetch_sub(1);
  nr_pending_work_.fetch_sub(1);
  return *work;
}

void System::run_work(const Work& work) {
  Cpu& cpu = cpu_handles_[work.cpu];
  // Work queued on a CPU that went offline since migrates to the lowest
  // online CPU (the workqueue unbinds a dead CPU's workers; RCU callbacks move).
  // A drain work then drains the runner's stock (drain_local_stock works on
  // this_cpu_ptr) and leaves the dead CPU's FLUSHING bit set.
  Cpu& runner = cpu.pcp->online.load() ? cpu : cpu_handles_[lowest_online_cpu()];
  switch (work.kind) {
    case WorkKind::drain_stock:
      drain_local_stock(runner);
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
    if (!oldest) return;
    run_work(*pop_ready(*oldest, /*ignore_grace_periods=*/true));
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
  while (auto work = sys->pop_ready(*this, /*ignore_grace_periods=*/false)) sys->run_work(*work);
}

}  // namespace mv::impl
